"""Helpers for the job tests that run real workers: media, projects, the process table, waiting."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import close_old_connections

from jobs.models import RenderJob
from jobs.render.procs import process_cmdline, process_table
from projects.sample_media import make_video
from tests.factories import ProjectFactory
from tests.processes import ManagedProcess, service_env, spawn, start_worker

# Worker and sweeper knobs shortened so recovery happens in seconds instead of minutes.
FAST = {
    "RENDER_HEARTBEAT_INTERVAL": "0.5",
    "RENDER_HEARTBEAT_TIMEOUT": "5",
    "RENDER_SWEEP_INTERVAL": "0.5",
    "RENDER_CANCEL_GRACE": "2",
}


def asset_from_video(owner, path: Path):
    """A real, probed MediaAsset made the way an upload makes one."""
    from projects.services import asset_create_from_path

    return asset_create_from_path(owner=owner, path=path, name=path.stem)


def timeline_with(asset, *, seconds: float, width: int = 320, height: int = 180, fps: int = 30,
                  repeat: int = 1) -> dict:
    """One video track playing `asset` [0, seconds) `repeat` times back to back."""
    clips = [
        {"id": f"c{n + 1}", "asset_id": str(asset.id), "start": n * seconds, "in": 0.0, "out": seconds,
         "volume": 1.0, "fit": "contain", "transition": None}
        for n in range(repeat)
    ]
    return {
        "schema": 1,
        "output": {"width": width, "height": height, "fps": fps, "background": "#000000"},
        "tracks": [{"id": "v1", "kind": "video", "muted": False, "clips": clips}],
        "markers": [],
        "view": {"current_time": 0.0, "zoom": 1.0},
    }


@pytest.fixture
def clip_path(tmp_path) -> Path:
    return make_video(tmp_path / "clip.mp4", seconds=2.0, width=320, height=180, fps=30)


@pytest.fixture
def video_asset(owner, clip_path):
    return asset_from_video(owner, clip_path)


@pytest.fixture
def make_project(owner, video_asset) -> Callable[..., object]:
    def make(*, seconds: float = 2.0, repeat: int = 1, name: str = "Render me", **output):
        return ProjectFactory(owner=owner, name=name,
                              timeline=timeline_with(video_asset, seconds=seconds, repeat=repeat, **output))

    return make


def wait_for(predicate: Callable[[], object], *, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        close_old_connections()
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def job_status(job_id) -> RenderJob:
    return RenderJob.objects.get(pk=job_id)


def wait_for_status(job_id, statuses: set[str], *, timeout: float, proc: ManagedProcess | None = None) -> RenderJob:
    def check():
        job = job_status(job_id)
        return job if job.status in statuses else None

    try:
        return wait_for(check, timeout=timeout, what=f"job {job_id} to reach {statuses}")
    except AssertionError:
        job = job_status(job_id)
        logs = proc.log()[-4000:] if proc else ""
        raise AssertionError(f"job is {job.status}/{job.phase} {job.progress}% {job.message!r}\n{logs}") from None


# --- the process table ----------------------------------------------------------------------------------


def session_pids(session: int) -> list[int]:
    """Live processes in the session a test started (a worker, its work horse, their encoders)."""
    return [info.pid for info in process_table() if info.alive and info.session == session]


def encoder_pids(scratch: Path) -> list[int]:
    """Live ffmpeg processes working on this test's files (inputs in its MEDIA_ROOT, output in its work dir).

    Encoders run in their own session, so they are found by what they work on rather than by session.
    """
    needle = str(scratch).encode()
    return [info.pid for info in process_table()
            if info.alive and info.name.startswith("ffmpeg") and needle in process_cmdline(info.pid)]


def kill_session(proc: ManagedProcess, scratch: Path | None = None) -> None:
    """SIGKILL everything the worker we started left running: worker, work horse (own group), encoders."""
    for pid in session_pids(proc.pid) + (encoder_pids(scratch) if scratch else []):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        proc.popen.wait(timeout=5)
    except Exception:
        pass


@pytest.fixture
def scratch(tmp_path, settings) -> Path:
    """This test's files: MEDIA_ROOT (conftest) and the render work dir both live under it."""
    settings.RENDER_WORK_DIR = tmp_path / "render-work"
    return tmp_path


@pytest.fixture
def processes(process_logs, scratch, settings):
    """Start workers and sweepers; on teardown stop each and anything left in its session."""
    started: list[ManagedProcess] = []
    base = {**FAST, "RENDER_WORK_DIR": str(settings.RENDER_WORK_DIR)}

    class Starter:
        def worker(self, **env) -> ManagedProcess:
            proc = start_worker(service_env(**{**base, **env}), process_logs)
            started.append(proc)
            return proc

        def sweeper(self, **env) -> ManagedProcess:
            import sys

            proc = spawn("sweeper", [sys.executable, "manage.py", "sweep_jobs"],
                         service_env(**{**base, **env}), process_logs)
            started.append(proc)
            return proc

    yield Starter()
    for proc in started:
        proc.stop(timeout=5)
        kill_session(proc, scratch)
