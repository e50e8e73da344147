"""Measure what uploads and downloads cost the web process (config/web.py), on loopback.

    python manage.py bench_upload [--mb 1024 --multipart-mb 200 --healthz-mb 200 --chunk-mb 8]

Starts its own web process on a free port (this environment: database, Redis, storage), makes a bench
user, and samples the web process's RSS every 20 ms throughout:

1. tus: uploads `--mb` MB (a real 1 s video padded with zeros, so the probe accepts it) in `--chunk-mb`
   chunks with tuspy, until the asset exists: `tus_mb_s`, peak RSS.
2. multipart: POSTs `--multipart-mb` MB to /api/assets/ (streamed from disk): `multipart_mb_s`.
3. hostile: an unauthenticated `--healthz-mb` MB POST to /healthz while another client asks /healthz every
   50 ms: RSS growth and the longest answer of the other client.
4. a download of the big asset by a client that stops reading after 64 kB: RSS growth after 3 s.

Prints one summary line:
`upload_mb= web_peak_mib= tus_mb_s= multipart_mb_s= healthz_post_growth_mib= other_requests_max_s=
stalled_download_growth_mib=` (peak is the highest RSS seen, baseline included). Removes what it made.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from django.core.management.base import BaseCommand, CommandError

BASE_DIR = Path(__file__).resolve().parents[3]
MIB = 1024 * 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rss_mib(pid: int) -> float:
    from jobs.render.procs import process_rss_kib  # projects import jobs only from their entry points

    return (process_rss_kib(pid) or 0) / 1024


class _Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, _rss_mib(self.pid))
            time.sleep(0.02)


class Command(BaseCommand):
    help = "Measure web memory and speed for tus and multipart uploads, a hostile POST and a stalled download."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--mb", type=int, default=1024)
        parser.add_argument("--multipart-mb", type=int, default=200)
        parser.add_argument("--healthz-mb", type=int, default=200)
        parser.add_argument("--chunk-mb", type=int, default=8)

    def handle(self, *args, **options) -> None:
        from django.conf import settings
        from rest_framework.authtoken.models import Token

        from config.env import env_str
        from projects.sample_media import make_video

        if options["mb"] > settings.MEDIA_MAX_UPLOAD_MB:
            raise CommandError(f"--mb {options['mb']} is over MEDIA_MAX_UPLOAD_MB ({settings.MEDIA_MAX_UPLOAD_MB}); "
                               "raise it in the environment.")
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.create_user(f"bench-upload-{os.getpid()}-{int(time.time())}")
        token = Token.objects.create(user=user).key
        headers = {"Authorization": f"Token {token}"}
        port = _free_port()
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "UPLOAD_MAX_CHUNK_MB": str(options["chunk_mb"])}
        if not env_str("SECRET_KEY"):
            env["SECRET_KEY"] = settings.SECRET_KEY
        web = subprocess.Popen([sys.executable, "-m", "config.web", "-b", "127.0.0.1", "-p", str(port),
                                "config.asgi:application"], cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        sampler = _Sampler(web.pid)
        try:
            self._wait_ready(base, web)
            for _ in range(30):
                httpx.get(f"{base}/healthz", timeout=5)
            baseline = _rss_mib(web.pid)
            sampler.start()
            with tempfile.TemporaryDirectory(prefix="cutline-bench-upload-") as tmp:
                big = self._padded_video(Path(tmp), options["mb"], make_video)
                tus_mb_s, asset_id = self._tus(base, headers, big, options["mb"], options["chunk_mb"])
                tus_peak = sampler.peak
                small = self._padded_video(Path(tmp), options["multipart_mb"], make_video, name="multi.mp4")
                multipart_mb_s = self._multipart(base, headers, small, options["multipart_mb"])
                before = _rss_mib(web.pid)
                other_max = self._hostile_post(base, options["healthz_mb"])
                healthz_growth = _rss_mib(web.pid) - before
                before = _rss_mib(web.pid)
                stalled_growth = self._stalled_download(base, token, asset_id, web.pid) - before
            self.stdout.write(
                f"upload_mb={options['mb']} web_peak_mib={tus_peak:.0f} tus_mb_s={tus_mb_s:.1f} "
                f"multipart_mb_s={multipart_mb_s:.1f} healthz_post_growth_mib={healthz_growth:.1f} "
                f"other_requests_max_s={other_max:.2f} stalled_download_growth_mib={stalled_growth:.1f} "
                f"web_baseline_mib={baseline:.0f} overall_peak_mib={sampler.peak:.0f}"
            )
        finally:
            sampler.stop.set()
            os.killpg(web.pid, signal.SIGTERM)
            try:
                web.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(web.pid, signal.SIGKILL)
            from projects.models import MediaAsset
            from projects.services import asset_delete

            for asset in MediaAsset.objects.filter(owner=user):
                asset_delete(asset=asset)
            user.delete()

    @staticmethod
    def _wait_ready(base: str, web: subprocess.Popen) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if web.poll() is not None:
                raise CommandError("the web process exited at start-up")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise CommandError("the web process did not answer within 30 s")

    @staticmethod
    def _padded_video(folder: Path, megabytes: int, make_video, name: str = "big.mp4") -> Path:
        path = folder / name
        make_video(folder / f"seed-{name}", seconds=1.0, width=160, height=90)
        with open(path, "wb") as out:
            out.write((folder / f"seed-{name}").read_bytes())
            out.truncate(megabytes * MIB)  # a sparse tail of zeros after the video: probed fine, costs no disk
        return path

    @staticmethod
    def _tus(base: str, headers: dict, path: Path, megabytes: int, chunk_mb: int) -> tuple[float, str]:
        from tusclient import client as tus

        uploader = tus.TusClient(f"{base}/api/uploads/", headers=headers).uploader(
            str(path), chunk_size=chunk_mb * MIB, metadata={"filename": path.name})
        started = time.monotonic()
        uploader.upload()
        elapsed = time.monotonic() - started
        state = httpx.get(uploader.url, headers={**headers, "Tus-Resumable": "1.0.0"}, timeout=30).json()
        if not state.get("asset_id"):
            raise CommandError(f"the tus upload did not become an asset: {state}")
        return megabytes / elapsed, state["asset_id"]

    @staticmethod
    def _multipart(base: str, headers: dict, path: Path, megabytes: int) -> float:
        started = time.monotonic()
        with open(path, "rb") as handle:
            response = httpx.post(f"{base}/api/assets/", headers=headers, files={"file": (path.name, handle)},
                                  timeout=600)
        if response.status_code != 201:
            raise CommandError(f"multipart upload answered {response.status_code}: {response.text[:300]}")
        return megabytes / (time.monotonic() - started)

    @staticmethod
    def _hostile_post(base: str, megabytes: int) -> float:
        longest = [0.0]
        done = threading.Event()

        def other_client() -> None:
            # One client for all its requests: a new httpx client per request builds an SSL context each time
            # (tens of ms, and a second under a loaded machine), which is the bench's cost, not the server's.
            with httpx.Client(timeout=30) as other:
                while not done.is_set():
                    started = time.monotonic()
                    try:
                        other.get(f"{base}/healthz")
                    except httpx.HTTPError:
                        pass
                    longest[0] = max(longest[0], time.monotonic() - started)
                    time.sleep(0.05)

        thread = threading.Thread(target=other_client, daemon=True)
        thread.start()
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(f"POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {megabytes * MIB}\r\n"
                         "Content-Type: multipart/form-data; boundary=x\r\n\r\n".encode())
            block = b"x" * MIB
            try:
                for _ in range(megabytes):
                    sock.sendall(block)
            except OSError:
                pass  # refused and closed by the server
        time.sleep(1.0)
        done.set()
        thread.join(timeout=35)
        return longest[0]

    @staticmethod
    def _stalled_download(base: str, token: str, asset_id: str, pid: int) -> float:
        """The web process's RSS 3 s into a download whose client stopped reading after 64 kB."""
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
            sock.sendall(f"GET /api/assets/{asset_id}/file HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         f"Authorization: Token {token}\r\n\r\n".encode())
            sock.recv(64 * 1024)
            peak = 0.0
            for _ in range(30):
                time.sleep(0.1)
                peak = max(peak, _rss_mib(pid))
            return peak
