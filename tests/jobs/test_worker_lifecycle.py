"""Workers that come and go (jobs/worker.py): hand back on SIGTERM, survive a Redis restart, tidy scratch,
and encoders that die with a SIGKILLed work horse (jobs/render/procs.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from rq import Worker

from jobs.render.procs import process_info
from tests.conftest import token_client
from tests.jobs.conftest import job_status, wait_for, wait_for_status
from tests.jobs.test_worker import TERMINAL, submit
from tests.processes import ManagedProcess, free_port, service_env, spawn

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db", "redis_conn")]


def _alive(pid: int) -> bool:
    info = process_info(pid)
    return info is not None and info.alive


def test_sigterm_hands_the_running_job_back_and_another_worker_finishes_it(owner, make_project, processes, scratch):
    stopping = processes.worker()
    client = token_client(owner)
    job_id = submit(client, make_project(repeat=6), preset="hd")
    wait_for(lambda: job_status(job_id).status == "RUNNING" and job_status(job_id).phase == "ENCODE",
             timeout=60, interval=0.05, what="the render to be encoding")
    attempt = job_status(job_id).attempt
    os.kill(stopping.pid, signal.SIGTERM)
    stopping.popen.wait(timeout=10)
    job = job_status(job_id)
    assert (job.status, job.attempt) == ("PENDING", attempt), (job.status, job.message)
    assert not list(Path(scratch / "render-work").glob(f"{job_id}.*"))

    processes.worker()
    job = wait_for_status(job_id, TERMINAL, timeout=120)
    assert (job.status, job.attempt, job.error_code or None) == ("SUCCEEDED", attempt, None)
    assert "Traceback" not in stopping.log(), stopping.log()[-3000:]


def test_worker_registers_again_after_redis_restarts_and_keeps_working(process_logs, tmp_path):
    port = free_port()

    def start_redis() -> ManagedProcess:
        proc = spawn("redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(tmp_path)], dict(os.environ), process_logs)
        wait_for(lambda: _ping(port), timeout=10, what="redis to answer")
        return proc

    own_redis = start_redis()
    url = f"redis://127.0.0.1:{port}/0"
    worker = spawn("rqworker", [sys.executable, "manage.py", "rqworker", "render", "default"],
                   service_env(REDIS_URL=url), process_logs)
    try:
        conn = redis.Redis.from_url(url)
        wait_for(lambda: Worker.count(connection=conn) == 1, timeout=30, what="the worker to register")
        own_redis.stop()  # a Redis restart without persistence: everything it knew is gone
        own_redis = start_redis()
        assert Worker.count(connection=redis.Redis.from_url(url)) == 0
        wait_for(lambda: Worker.count(connection=redis.Redis.from_url(url)) == 1, timeout=20,
                 what="the worker to register again")
        assert worker.alive(), worker.log()[-3000:]
    finally:
        worker.stop()
        own_redis.stop()


def _ping(port: int) -> bool:
    try:
        return redis.Redis(port=port, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        return False


def test_worker_start_tidies_scratch_left_by_a_killed_horse(processes, settings, tmp_path):
    import uuid

    settings.RENDER_INPUT_CACHE_DIR = tmp_path / "input-cache"
    leftover = Path(settings.RENDER_WORK_DIR) / f"{uuid.uuid4()}.1"
    (leftover / "inputs").mkdir(parents=True)
    (leftover / "render.mp4").write_bytes(b"half a video")
    processes.worker(RENDER_INPUT_CACHE_DIR=str(settings.RENDER_INPUT_CACHE_DIR))
    assert not leftover.exists()


def test_an_encoder_ends_when_the_process_that_started_it_is_sigkilled(tmp_path):
    horse = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys, time\n"
            "from pathlib import Path\n"
            "from jobs.render.procs import ChildProcess\n"
            "from config.tools import ffmpeg_exe\n"
            "child = ChildProcess([ffmpeg_exe(), '-hide_banner', '-nostdin', '-re', '-f', 'lavfi', '-i',"
            " 'testsrc2=size=64x36:rate=5', '-t', '600', '-f', 'null', '-'], log_path=Path(sys.argv[1]))\n"
            "print(child.pid, flush=True)\n"
            "time.sleep(600)\n"
        ), str(tmp_path / "ffmpeg.log")],
        stdout=subprocess.PIPE, env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
        cwd=Path(__file__).resolve().parents[2], start_new_session=True,
    )
    encoder = int(horse.stdout.readline())
    try:
        assert _alive(encoder)
        horse.kill()
        horse.wait(timeout=5)
        deadline = time.monotonic() + 5
        while _alive(encoder) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(encoder), "the encoder outlived its SIGKILLed parent by 5 s"
    finally:
        for pid in (encoder, horse.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
