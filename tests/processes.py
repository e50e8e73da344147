"""Real server and worker processes for integration and end-to-end tests.

Each process runs in its own session (process group) and is stopped by its id, with everything it
spawned (an RQ work horse, ffmpeg). Nothing here signals a process it did not start.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from django.conf import settings
from django.db import connection

from jobs.render.procs import descendants

BASE_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """The URL of the database the current test uses (pytest-django's test database)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def service_env(**overrides: str) -> dict[str, str]:
    """Environment for a child process that shares this test's database, Redis, media and secret."""
    env = dict(os.environ)
    env.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": settings.SECRET_KEY,
            "DATABASE_URL": database_url(),
            "DATABASE_POOL": "0",
            "REDIS_URL": settings.REDIS_URL,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(overrides)
    return env


@dataclass
class ManagedProcess:
    name: str
    popen: subprocess.Popen
    log_path: Path
    children: list[int] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.popen.pid, sig)  # the group we created with start_new_session
        except ProcessLookupError:
            pass

    def descendants(self) -> list[int]:
        """Every live process below this one, found through /proc.

        RQ's work horse moves into a process group of its own and encoders start their own sessions,
        so the group of the process we started does not reach them; the parent links do.
        """
        return descendants(self.popen.pid)

    def stop(self, timeout: float = 10.0) -> None:
        below = self.descendants()
        if self.alive():
            self.signal_group(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        # Anything left (a work horse, an encoder) goes too: the group, then each process we spawned.
        self.signal_group(signal.SIGKILL)
        for pid in set(below) | set(self.descendants()):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def spawn(name: str, args: list[str], env: dict[str, str], log_dir: Path) -> ManagedProcess:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}-{time.monotonic_ns()}.log"
    log_file = open(log_path, "wb")
    popen = subprocess.Popen(
        args, cwd=BASE_DIR, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
    )
    log_file.close()
    return ManagedProcess(name=name, popen=popen, log_path=log_path)


def start_daphne(env: dict[str, str], log_dir: Path, port: int | None = None) -> tuple[ManagedProcess, str]:
    port = port or free_port()
    proc = spawn(
        "daphne",
        [sys.executable, "-m", "config.web", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        env,
        log_dir,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"daphne exited early:\n{proc.log()}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return proc, base_url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.stop()
    raise RuntimeError(f"daphne did not answer within 30 s:\n{proc.log()}")


def start_worker(
    env: dict[str, str], log_dir: Path, *, queues: tuple[str, ...] = ("render", "default"), name: str | None = None
) -> ManagedProcess:
    import django_rq
    from rq import Worker

    args = [sys.executable, "manage.py", "rqworker", *queues]
    if name:
        args += ["--name", name]
    before = {w.name for w in Worker.all(connection=django_rq.get_connection("render"))}
    proc = spawn("rqworker", args, env, log_dir)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"rqworker exited early:\n{proc.log()}")
        now = {w.name for w in Worker.all(connection=django_rq.get_connection("render"))}
        if now - before:
            return proc
        time.sleep(0.2)
    proc.stop()
    raise RuntimeError(f"rqworker did not register within 30 s:\n{proc.log()}")


def start_s3_server(log_dir: Path, port: int | None = None) -> tuple[ManagedProcess, str]:
    """A real S3 API server (moto's server mode) in its own process on loopback; yields its endpoint URL."""
    port = port or free_port()
    proc = spawn("s3", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                 dict(os.environ), log_dir)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"the S3 server exited early:\n{proc.log()}")
        try:
            httpx.get(f"{endpoint}/moto-api/", timeout=1)
            return proc, endpoint
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.stop()
    raise RuntimeError(f"the S3 server did not answer within 30 s:\n{proc.log()}")
