"""A real HTTP webhook receiver on 127.0.0.1 for the tests, verifying with the standardwebhooks verifier."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    webhook_id: str
    verified: bool
    status: int
    payload: dict | None
    headers: dict[str, str]


@dataclass
class Receiver:
    """Answers `fail_first` requests with 500, then `status`. `hang` makes it wait until the test ends."""

    secret: str | None = None
    fail_first: int = 0
    status: int = 204
    hang: bool = False
    body: bytes = b""
    headers_out: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)
    released: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def accepted(self) -> list[Received]:
        """Verified deliveries answered 2xx, one per webhook-id (what an idempotent receiver would act on)."""
        seen: dict[str, Received] = {}
        for item in self.received:
            if item.verified and 200 <= item.status < 300:
                seen.setdefault(item.webhook_id, item)
        return list(seen.values())

    def wait_for(self, count: int, timeout: float) -> list[Received]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout=timeout)
            return list(self.received)


def start_receiver(**options) -> Receiver:
    receiver = Receiver(**options)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            if receiver.hang:
                receiver.released.wait(30)
            payload, verified = None, False
            if receiver.secret:
                try:
                    payload = Webhook(receiver.secret).verify(body, headers)
                    verified = True
                except WebhookVerificationError:
                    verified = False
            with receiver.arrived:
                failing = len(receiver.received) < receiver.fail_first
                status = 500 if failing else receiver.status
                receiver.received.append(Received(headers.get("webhook-id", ""), verified, status, payload, headers))
                receiver.arrived.notify_all()
            try:
                self.send_response(status)
                for name, value in receiver.headers_out.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(receiver.body)))
                self.end_headers()
                self.wfile.write(receiver.body)
            except OSError:
                pass  # the sender gave up (timeout)

        def log_message(self, *args):
            pass

    receiver.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.server.daemon_threads = True
    threading.Thread(target=receiver.server.serve_forever, daemon=True).start()
    return receiver


def stop_receiver(receiver: Receiver) -> None:
    receiver.released.set()
    receiver.server.shutdown()
    receiver.server.server_close()
