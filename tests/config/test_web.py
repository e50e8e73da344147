"""The web process (config/web.py) on a real socket: bodies never held whole, downloads paced by the client,
and a graceful stop that closes sockets with 1012 and ends event streams cleanly."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import time
from urllib.parse import urlparse

import httpx
import pytest
from rest_framework.authtoken.models import Token
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from jobs.render.procs import process_rss_kib
from projects.models import MediaAsset
from tests.factories import RenderJobFactory
from tests.processes import service_env, start_daphne

pytestmark = [pytest.mark.e2e]

MIB = 1024 * 1024


def rss_mib(pid: int) -> float:
    kib = process_rss_kib(pid)
    assert kib is not None, "no VmRSS"
    return kib / 1024


@pytest.fixture
def web(transactional_db, redis_conn, process_logs):
    proc, base_url = start_daphne(service_env(), process_logs)
    yield proc, base_url
    proc.stop()


def _settle(base_url: str) -> None:
    for _ in range(20):  # warm the process up: first requests import and allocate
        httpx.get(f"{base_url}/healthz", timeout=5)


def _raw(base_url: str) -> socket.socket:
    parsed = urlparse(base_url)
    return socket.create_connection((parsed.hostname, parsed.port), timeout=10)


def test_an_oversized_post_to_healthz_is_refused_before_its_body_is_read(web):
    proc, base_url = web
    _settle(base_url)
    before = rss_mib(proc.pid)
    with _raw(base_url) as sock:
        sock.sendall(b"POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\n"
                     b"Content-Length: 209715200\r\n\r\n")
        sent = 0
        try:
            while sent < 200 * MIB:
                sock.sendall(b"x" * MIB)
                sent += MIB
        except OSError:
            pass  # the server closed the connection after answering
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"code": "MEDIA_TOO_LARGE"' in answer
    assert sent < 200 * MIB
    assert httpx.get(f"{base_url}/healthz", timeout=5).status_code == 200
    assert rss_mib(proc.pid) - before < 50


def test_a_large_multipart_body_is_streamed_to_disk_not_memory(web):
    proc, base_url = web
    _settle(base_url)
    before = rss_mib(proc.pid)
    boundary = b"cutlineboundary"
    payload = os.urandom(MIB) * 60
    body = (b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n'
            b"Content-Type: video/mp4\r\n\r\n" + payload + b"\r\n--" + boundary + b"--\r\n")
    response = httpx.post(f"{base_url}/api/assets/", content=body, timeout=60,
                          headers={"Content-Type": f"multipart/form-data; boundary={boundary.decode()}"})
    assert response.status_code == 401  # unauthenticated: refused after the body, which was never parsed
    del body, payload
    assert rss_mib(proc.pid) - before < 30


def test_a_stalled_download_holds_little_memory(web, owner, media_root):
    proc, base_url = web
    token = Token.objects.create(user=owner).key
    (media_root / "assets").mkdir()
    (media_root / "assets" / "big.mp4").write_bytes(os.urandom(MIB) * 96)
    asset = MediaAsset.objects.create(owner=owner, name="big", kind="video", file="assets/big.mp4",
                                      size_bytes=96 * MIB, sha256="0" * 64)
    _settle(base_url)
    before = rss_mib(proc.pid)
    with _raw(base_url) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.sendall(f"GET /api/assets/{asset.id}/file HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     f"Authorization: Token {token}\r\n\r\n".encode())
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        # The client stops reading. Give the server time to push whatever it would buffer.
        peak = before
        for _ in range(20):
            time.sleep(0.1)
            peak = max(peak, rss_mib(proc.pid))
    assert peak - before <= 16, f"{peak - before:.1f} MiB held for a stalled client"


def test_sigterm_closes_sockets_with_1012_and_ends_event_streams(web, owner):
    proc, base_url = web
    job = RenderJobFactory(owner=owner, project__owner=owner)
    client = httpx.Client(base_url=base_url, headers={"Authorization": f"Token {Token.objects.create(user=owner).key}"},
                          timeout=30)

    async def scenario() -> tuple[int | None, list[str], bool]:
        ticket = client.post("/api/realtime/ticket").json()["ticket"]
        ws = await connect(f"{base_url.replace('http://', 'ws://')}/ws/jobs/{job.id}?token={ticket}",
                           origin=base_url, proxy=None)
        assert json.loads(await ws.recv())["type"] == "job.snapshot"
        stream_lines: list[str] = []
        ended_cleanly = False
        async with httpx.AsyncClient(base_url=base_url, headers=client.headers, timeout=30) as sse:
            async with sse.stream("GET", f"/api/jobs/{job.id}/events") as response:
                lines = response.aiter_lines()
                stream_lines.append(await anext(lines))
                os.kill(proc.pid, signal.SIGTERM)
                try:
                    async for line in lines:
                        stream_lines.append(line)
                    ended_cleanly = True
                except httpx.HTTPError:
                    ended_cleanly = False
        code = None
        try:
            await asyncio.wait_for(ws.recv(), 10)
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
        return code, stream_lines, ended_cleanly

    started = time.monotonic()
    code, lines, ended_cleanly = asyncio.run(scenario())
    assert code == 1012
    assert ended_cleanly, lines
    assert lines[0].startswith("id:") or lines[0].startswith(":") or lines[0].startswith("event:")
    proc.popen.wait(timeout=15)
    assert time.monotonic() - started < 10 + 5  # the grace, plus the test's own start-up
    log = proc.log()
    assert "Traceback" not in log, log[-3000:]
