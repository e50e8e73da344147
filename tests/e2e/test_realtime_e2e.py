"""Live progress end to end: a real daphne, a real rqworker rendering tiny media, real WebSocket and HTTP clients."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import redis
from django.db import close_old_connections
from rest_framework.authtoken.models import Token
from websockets.asyncio.client import connect

from jobs.models import JobEvent, RenderJob
from tests.factories import ProjectFactory, video_asset
from tests.processes import ManagedProcess, free_port, service_env, spawn, start_daphne, start_worker

pytestmark = [pytest.mark.e2e]

TERMINAL = {"job.completed", "job.failed", "job.canceled"}


# --- helpers ---------------------------------------------------------------------------------------------


def render_project(owner, *, repeat: int):
    """A project whose timeline plays one 2 s clip `repeat` times at 320x180: long enough to watch."""
    asset = video_asset(owner, seconds=2.0, width=320, height=180)
    clips = [
        {"id": f"c{n + 1}", "asset_id": str(asset.id), "start": 2.0 * n, "in": 0.0, "out": 2.0,
         "volume": 1.0, "fit": "contain", "transition": None}
        for n in range(repeat)
    ]
    timeline = {
        "schema": 1, "output": {"width": 320, "height": 180, "fps": 30, "background": "#000000"},
        "tracks": [{"id": "v1", "kind": "video", "muted": False, "clips": clips}],
        "markers": [], "view": {"current_time": 0.0, "zoom": 1.0},
    }
    return ProjectFactory(owner=owner, timeline=timeline)


def api(base_url: str, owner) -> httpx.Client:
    token, _ = Token.objects.get_or_create(user=owner)
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Token {token.key}"}, timeout=30)


def submit(client: httpx.Client, project) -> str:
    response = client.post(f"/api/projects/{project.id}/renders", json={"preset": "project"})
    assert response.status_code == 202, response.text
    return response.json()["job"]["id"]


def ws_url(base_url: str, client: httpx.Client, path: str) -> str:
    ticket = client.post("/api/realtime/ticket").json()["ticket"]
    return f"{base_url.replace('http://', 'ws://')}{path}?token={ticket}"


async def ws_open(url: str, base_url: str):
    return await connect(url, origin=base_url, proxy=None, open_timeout=20)


async def collect_until_terminal(ws, job_id: str, *, timeout: float) -> list[dict]:
    """Every message about `job_id` up to its terminal event, then anything else that arrives within 1 s."""
    received: list[dict] = []
    deadline = time.monotonic() + timeout
    while not received or received[-1]["type"] not in TERMINAL:
        message = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic())))
        if message.get("job_id") == job_id:
            received.append(message)
    try:
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 1.0))
            if message.get("job_id") == job_id:
                received.append(message)
    except TimeoutError:
        pass
    return received


def wait_for_job(job_id: str, statuses: set[str], *, timeout: float) -> RenderJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        close_old_connections()
        job = RenderJob.objects.get(pk=job_id)
        if job.status in statuses:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not reach {statuses} within {timeout} s (now {job.status})")


def sse_frames(lines, *, stop_after=None) -> list[dict]:
    """Parse SSE lines into frames with `id`, `event`, `data`; optionally stop once `stop_after(frames)` holds."""
    frames, frame = [], {}
    for line in lines:
        if line == "":
            if "event" in frame:
                frames.append(frame)
                if stop_after and stop_after(frames):
                    return frames
            frame = {}
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(": ")
            frame[name] = json.loads(value) if name == "data" else value
    return frames


def stored_events(job_id: str) -> list[dict]:
    close_old_connections()
    return list(JobEvent.objects.filter(job_id=job_id).order_by("seq").values_list("payload", flat=True))


# --- WebSocket -------------------------------------------------------------------------------------------


def test_websocket_clients_follow_a_real_render_from_snapshot_to_completed(
    owner, live_server_url, redis_conn, process_logs
):
    client = api(live_server_url, owner)
    job_id = submit(client, render_project(owner, repeat=3))

    async def watch():
        job_ws = await ws_open(ws_url(live_server_url, client, f"/ws/jobs/{job_id}"), live_server_url)
        owner_ws = await ws_open(ws_url(live_server_url, client, "/ws/jobs"), live_server_url)
        # Both are watching before any worker exists, so they see the whole render.
        worker = await asyncio.to_thread(start_worker, service_env(REALTIME_PROGRESS_MAX_PER_SECOND="8"),
                                         process_logs)
        try:
            return await asyncio.gather(
                collect_until_terminal(job_ws, job_id, timeout=90),
                collect_until_terminal(owner_ws, job_id, timeout=90),
            )
        finally:
            await job_ws.close()
            await owner_ws.close()
            await asyncio.to_thread(worker.stop)

    streams = asyncio.run(watch())
    download = client.get(f"/api/jobs/{job_id}/result")
    assert download.status_code == 200
    checksum = f"sha256:{hashlib.sha256(download.content).hexdigest()}"

    for received in streams:
        types = [message["type"] for message in received]
        assert types[0] == "job.snapshot" and types[-1] == "job.completed", types
        progress = [message for message in received if message["type"] == "job.progress"]
        assert len(progress) >= 3
        seqs = [message["seq"] for message in received]
        assert seqs == sorted(set(seqs)), "seq must only rise, each event once"
        assert [p["progress"] for p in progress] == sorted(p["progress"] for p in progress)
        assert progress[-1]["progress"] > progress[0]["progress"]
        completed = received[-1]
        assert completed["checksum"] == checksum
        assert completed["size_bytes"] == len(download.content)
        assert completed["seq"] == stored_events(job_id)[-1]["seq"]


# --- SSE -------------------------------------------------------------------------------------------------


def test_sse_disconnect_and_resume_with_last_event_id_gives_every_stored_event_once(
    owner, live_server_url, redis_conn, process_logs
):
    client = api(live_server_url, owner)
    job_id = submit(client, render_project(owner, repeat=6))
    worker = None
    try:
        # Resume from 0 so the first stream starts with stored event 1 instead of a snapshot.
        with client.stream("GET", f"/api/jobs/{job_id}/events", headers={"Last-Event-ID": "0"}) as first:
            assert first.status_code == 200
            assert first.headers["content-type"].startswith("text/event-stream")
            worker = start_worker(service_env(), process_logs)
            before = sse_frames(
                first.iter_lines(),
                stop_after=lambda frames: sum(f["event"] == "job.progress" and f["data"]["status"] == "RUNNING"
                                              for f in frames) >= 2,
            )
        assert all(f["event"] not in TERMINAL for f in before), "the render must still be running at disconnect"
        time.sleep(0.5)  # events keep being stored while nobody listens
        with client.stream("GET", f"/api/jobs/{job_id}/events", headers={"Last-Event-ID": before[-1]["id"]}) as second:
            after = sse_frames(second.iter_lines())
        wait_for_job(job_id, {"SUCCEEDED", "FAILED", "CANCELED"}, timeout=30)
    finally:
        if worker is not None:
            worker.stop()

    union = before + after
    stored = stored_events(job_id)
    assert [int(f["id"]) for f in union] == [event["seq"] for event in stored]
    assert [f["data"] for f in union] == stored
    assert [f["event"] for f in union] == [event["type"] for event in stored]
    assert union[-1]["event"] == "job.completed"
    assert len(after) >= 1


# --- Redis restarted mid-render ---------------------------------------------------------------------------


class SpareRedis:
    """A redis-server of our own on a spare port (the machine's Redis stays untouched), restartable with its data."""

    def __init__(self, directory: Path, log_dir: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.log_dir = log_dir
        self.proc: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = spawn(
            "redis",
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
             "--save", "3600 1", "--appendonly", "no", "--protected-mode", "no"],
            dict(os.environ), self.log_dir,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis.from_url(self.url, socket_timeout=0.5).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start:\n{self.proc.log()}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.signal_group(signal.SIGTERM)  # saves its data set, like a service restart
            try:
                self.proc.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.stop()
            self.proc = None


def start_worker_on(env: dict[str, str], log_dir: Path, redis_url: str) -> ManagedProcess:
    from rq import Worker

    conn = redis.Redis.from_url(redis_url)
    proc = spawn("rqworker", [sys.executable, "manage.py", "rqworker", "render", "default"], env, log_dir)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"rqworker exited early:\n{proc.log()}")
        if Worker.all(connection=conn):
            return proc
        time.sleep(0.2)
    proc.stop()
    raise RuntimeError(f"rqworker did not register within 30 s:\n{proc.log()}")


def test_redis_restart_mid_render_ends_right_and_reconnecting_clients_see_the_outcome(
    owner, transactional_db, tmp_path, process_logs
):
    spare = SpareRedis(tmp_path, process_logs)
    spare.start()
    env = service_env(REDIS_URL=spare.url, REALTIME_RESYNC_INTERVAL="1")
    web, base_url = start_daphne(env, process_logs)
    worker = None
    try:
        client = api(base_url, owner)
        job_id = submit(client, render_project(owner, repeat=6))

        async def watch_through_restart():
            ws = await ws_open(ws_url(base_url, client, f"/ws/jobs/{job_id}"), base_url)
            assert json.loads(await ws.recv())["type"] == "job.snapshot"
            nonlocal worker
            worker = await asyncio.to_thread(start_worker_on, env, process_logs, spare.url)
            while True:  # the render is under way
                message = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if message["type"] == "job.progress" and message["status"] == "RUNNING" and message["progress"] > 5:
                    break
            await asyncio.to_thread(spare.stop)
            await asyncio.sleep(1.0)
            await asyncio.to_thread(spare.start)
            return ws

        async def reconnect_after():
            ws = await ws_open(ws_url(base_url, client, f"/ws/jobs/{job_id}"), base_url)
            snapshot = json.loads(await asyncio.wait_for(ws.recv(), 10))
            await ws.close()
            return snapshot

        async def scenario():
            ws = await watch_through_restart()
            job = await asyncio.to_thread(wait_for_job, job_id, {"SUCCEEDED", "FAILED", "CANCELED"}, timeout=90)
            # The socket that stayed open through the restart is told the outcome too (caught up from the DB).
            held = await collect_until_terminal(ws, job_id, timeout=30)
            await ws.close()
            return job, held, await reconnect_after()

        job, held, snapshot = asyncio.run(scenario())
        assert job.status == "SUCCEEDED", (job.status, job.error_code, job.error_message)
        data = client.get(f"/api/jobs/{job_id}/result").content
        assert f"sha256:{hashlib.sha256(data).hexdigest()}" == f"sha256:{job.result_sha256}"

        assert snapshot["type"] == "job.snapshot"
        assert snapshot["job"]["status"] == "SUCCEEDED"
        assert snapshot["job"]["result"]["checksum"] == f"sha256:{job.result_sha256}"
        assert held[-1]["type"] == "job.completed"
        seqs = [message["seq"] for message in held]
        assert seqs == sorted(set(seqs))
    finally:
        if worker is not None:
            worker.stop()
        web.stop()
        spare.stop()
