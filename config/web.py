"""The web process: daphne (HTTP and Channels' WebSockets) with bounded memory and a graceful stop.

Run it as ``python -m config.web [daphne's options] config.asgi:application`` (Procfile, tests). It is
daphne's own command line with three changes to how daphne's server treats connections:

- **Request bodies are never parsed or held whole.** twisted.web parses multipart and form bodies
  with Python's `email` parser on the event-loop thread before Django runs (2 GB and an 18 s stall
  for one 162 MiB upload); that is switched off. Daphne then hands the body to the application by
  putting every chunk in an unbounded queue at once; here the body is fed from twisted's spool file
  (disk past 100 kB) through a queue of two chunks, at the pace the application reads it. A declared
  body larger than its endpoint accepts is refused with 413 before a byte of it is read.
- **Downloads respect backpressure.** Each `http.response.body` send waits while the socket's send
  buffer is full (twisted's producer/consumer pause), so a slow or stalled client holds one chunk,
  not the whole file.
- **SIGTERM/SIGINT stop gracefully.** The process stops listening, closes every WebSocket with 1012
  (service restart: clients reconnect to another process), ends event streams cleanly (the chunked
  body is terminated, so EventSource reconnects with Last-Event-ID), lets other requests finish, and
  exits within `WEB_STOP_GRACE` seconds.

The hooks are subclasses of daphne's classes; daphne's `Server.run` names its factories as module
globals, so this entry point (and only it) points those names at the subclasses before starting.
"""

from __future__ import annotations

import asyncio
import json
import logging
import pprint
import signal
import sys
from functools import partial

import autobahn.websocket.protocol as autobahn_protocol
import daphne.server as daphne_server
from daphne.cli import CommandLineInterface
from daphne.http_protocol import HTTPFactory, WebRequest
from daphne.server import Server
from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
from twisted.internet import reactor
from twisted.internet.defer import Deferred

logger = logging.getLogger("cutline.web")

CLOSE_SERVICE_RESTART = 1012
BODY_CHUNK = 256 * 1024
ENVELOPE_ALLOWANCE = 64 * 1024
LISTEN_BACKLOG = 2048


def body_limit(path: bytes) -> int:
    """The largest request body the endpoint at `path` takes (bytes)."""
    from django.conf import settings

    if path.startswith(b"/api/uploads"):
        return settings.UPLOAD_MAX_CHUNK_MB * 1024 * 1024 + ENVELOPE_ALLOWANCE
    if path.startswith(b"/api/assets"):
        return settings.MEDIA_MAX_UPLOAD_MB * 1024 * 1024 + ENVELOPE_ALLOWANCE
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE + ENVELOPE_ALLOWANCE


def _too_large_response(limit: int) -> bytes:
    detail = f"The request body is larger than this endpoint accepts ({limit // (1024 * 1024)} MB)."
    body = json.dumps({"type": "client_error", "code": "MEDIA_TOO_LARGE",
                       "errors": [{"code": "too_large", "detail": detail, "attr": None}]}).encode()
    return (b"HTTP/1.1 413 Content Too Large\r\nContent-Type: application/json\r\nConnection: close\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


class _Discard:
    """Where the body of a refused request goes (nowhere)."""

    closed = False

    def write(self, data: bytes) -> None:
        pass

    def seek(self, *args) -> int:
        return 0

    def read(self, *args) -> bytes:
        return b""

    def close(self) -> None:
        self.closed = True


class _NoBodyYet:
    """Stands in for the spooled body while daphne's `process` runs: its body loop then sends nothing,
    and `_BodyFeedQueue` feeds the real file afterwards."""

    def __init__(self, real) -> None:
        self.real = real

    @property
    def closed(self) -> bool:
        return self.real.closed

    def seek(self, *args) -> int:
        return 0

    def read(self, *args) -> bytes:
        return b""

    def close(self) -> None:
        self.real.close()


class _Pacer:
    """An IPushProducer registered with the HTTP channel: paused while the socket's send buffer is full."""

    def __init__(self) -> None:
        self.writable = asyncio.Event()
        self.writable.set()

    def pauseProducing(self) -> None:
        self.writable.clear()

    def resumeProducing(self) -> None:
        self.writable.set()

    def stopProducing(self) -> None:
        self.writable.set()  # the connection is going: never leave a sender waiting


class _BodyFeedQueue(asyncio.Queue):
    """The application's receive queue for one HTTP request, at most two body chunks deep."""

    def __init__(self, request: CutlineRequest) -> None:
        super().__init__(maxsize=2)
        self.request = request
        self.feeding: asyncio.Task | None = None
        self.late: set[asyncio.Future] = set()

    def put_nowait(self, item) -> None:
        if item.get("type") == "http.request" and self.feeding is None:
            # Daphne's own (empty) body message: start feeding the real body instead.
            self.feeding = asyncio.ensure_future(self.request.feed_body(self))
            return
        if self.full():
            # A disconnect while the application is behind on the body: deliver it after the chunks.
            self.late.add(asyncio.ensure_future(self.put(item)))
            return
        super().put_nowait(item)


class CutlineRequest(WebRequest):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._parsePOSTFormSubmission = False
        self.refused = False
        self.received = 0
        self.limit = 0
        self.spooled = None
        self.pacer: _Pacer | None = None

    # --- the request body -------------------------------------------------------------------------------
    def gotLength(self, length) -> None:
        self.limit = body_limit(getattr(self.channel, "_path", b"") or b"")
        if length is not None and length > self.limit:
            self.refuse()
            return
        super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:
        if self.refused:
            return
        self.received += len(data)
        if self.received > self.limit:  # a chunked body without Content-Length that grew past the limit
            self.refuse()
            return
        super().handleContentChunk(data)

    def refuse(self) -> None:
        """413 now, without reading the body, and close the connection."""
        self.refused = True
        if self.content is not None and not isinstance(self.content, _Discard):
            self.content.close()
        self.content = _Discard()
        transport = self.channel.transport
        if transport is not None:
            transport.write(_too_large_response(self.limit))
            transport.loseConnection()

    def process(self):
        if self.refused:
            return None
        upgrade = (self.requestHeaders.getRawHeaders(b"Upgrade") or [b""])[0].lower()
        if upgrade != b"websocket":
            self.spooled, self.content = self.content, _NoBodyYet(self.content)
        return super().process()

    async def feed_body(self, queue: _BodyFeedQueue) -> None:
        spooled = self.spooled
        spooled.seek(0)
        while True:
            if spooled.closed:
                return
            chunk = spooled.read(BODY_CHUNK)
            more = len(chunk) == BODY_CHUNK
            await queue.put({"type": "http.request", "body": chunk, "more_body": more})
            if not more:
                return

    # --- the response body ----------------------------------------------------------------------------
    async def until_writable(self) -> None:
        if self.finished or self._disconnected:
            return
        if self.pacer is None:
            self.pacer = _Pacer()
            self.registerProducer(self.pacer, True)
            if getattr(self.channel, "_waitingForTransport", False):
                self.pacer.pauseProducing()
        await self.pacer.writable.wait()

    def _release_pacer(self) -> None:
        if self.pacer is not None:
            self.pacer.stopProducing()
            if self.channel is not None:
                self.unregisterProducer()
            self.pacer = None

    def finish(self):
        self._release_pacer()
        return super().finish()

    def connectionLost(self, reason):
        self._release_pacer()
        return super().connectionLost(reason)

    def is_event_stream(self) -> bool:
        content_type = (self.responseHeaders.getRawHeaders(b"content-type") or [b""])[0]
        return content_type.startswith(b"text/event-stream")


class CutlineHTTPFactory(HTTPFactory):
    def buildProtocol(self, addr):
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = CutlineRequest
        return protocol


class CutlineWebSocketProtocol(WebSocketProtocol):
    def serverClose(self, code=None):
        # autobahn's sendClose only takes 1000 and 3000-4999; 1011-1013 are close codes a server may send.
        if code in (1011, 1012, 1013):
            self.sendCloseFrame(code=code, isReply=False)
        else:
            super().serverClose(code)


class CutlineWebSocketFactory(WebSocketFactory):
    protocol = CutlineWebSocketProtocol


class CutlineServer(Server):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Twisted listens with a backlog of 50: when a stopped process's sockets all reconnect here at once,
        # the rest of the burst would be dropped by the kernel and retried only after the client's timeout.
        self.endpoints = [f"{endpoint}:backlog={LISTEN_BACKLOG}" if endpoint.startswith("tcp:")
                          and "backlog=" not in endpoint else endpoint for endpoint in self.endpoints]
        # In a reconnect storm a handshake waits behind others for the ticket check (Channels' database
        # thread); daphne's 5 s limit then drops it and the client retries, adding to the storm.
        from django.conf import settings

        self.websocket_handshake_timeout = max(self.websocket_handshake_timeout, settings.WEB_WS_HANDSHAKE_TIMEOUT)
        self.websocket_connect_timeout = max(self.websocket_connect_timeout, settings.WEB_WS_HANDSHAKE_TIMEOUT)
        self.ports: list = []
        self.stopping = False

    def create_application(self, protocol, scope):
        if not (isinstance(protocol, CutlineRequest) and scope.get("type") == "http"):
            return super().create_application(protocol, scope)
        # daphne's own, except for the queue: bounded, and fed by the request at the application's pace.
        assert "application_instance" not in self.connections[protocol]
        queue = _BodyFeedQueue(protocol)
        scope.setdefault("asgi", {"version": "3.0"})
        instance = self.application(scope=scope, receive=queue.get, send=partial(self.handle_reply, protocol))
        if protocol not in self.connections:
            return None
        self.connections[protocol]["application_instance"] = asyncio.ensure_future(instance)
        return queue

    async def handle_reply(self, protocol, message):
        await super().handle_reply(protocol, message)
        if (message.get("type") == "http.response.body" and message.get("more_body")
                and isinstance(protocol, CutlineRequest)):
            await protocol.until_writable()

    # --- graceful stop --------------------------------------------------------------------------------
    def run(self):
        self.signal_handlers = False  # ours below replace twisted's immediate stop
        reactor.callWhenRunning(self._install_stop_handlers)
        super().run()

    def listen_success(self, port):
        self.ports.append(port)
        super().listen_success(port)

    def _install_stop_handlers(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: reactor.callFromThread(self.stop_gracefully))

    def stop_gracefully(self) -> None:
        from django.conf import settings

        if self.stopping:
            return
        self.stopping = True
        for port in self.ports:
            port.stopListening()
        sockets = streams = 0
        for protocol in list(self.connections):
            if isinstance(protocol, WebSocketProtocol) and protocol.state == WebSocketProtocol.STATE_OPEN:
                protocol.sendCloseFrame(code=CLOSE_SERVICE_RESTART, reasonUtf8=b"server restarting", isReply=False)
                sockets += 1
            elif (isinstance(protocol, CutlineRequest) and protocol._response_started and not protocol.finished
                  and protocol.is_event_stream()):
                protocol.finish()
                streams += 1
        logger.info("stopping: closed %s sockets with 1012 and ended %s event streams", sockets, streams)
        deadline = reactor.seconds() + settings.WEB_STOP_GRACE
        self._stop_when_idle(deadline)

    def _stop_when_idle(self, deadline: float) -> None:
        busy = [details for details in self.connections.values() if "disconnected" not in details]
        if busy and reactor.seconds() < deadline:
            reactor.callLater(0.1, self._stop_when_idle, deadline)
            return
        if busy:
            logger.warning("stopping: %s connections still open after the grace period", len(busy))
        # Let the applications' disconnect handlers (socket slots, groups) finish, then stop.
        waiting = [details["application_instance"] for details in self.connections.values()
                   if "application_instance" in details and not details["application_instance"].done()]
        if waiting:
            gathered = Deferred.fromFuture(asyncio.ensure_future(
                asyncio.wait(waiting, timeout=max(0.5, deadline - reactor.seconds() + 1))))
            gathered.addBoth(lambda _: reactor.stop())
        else:
            reactor.stop()


class _DeferredPformat:
    """What autobahn's `pformat` becomes here: the text is made only when the log line is written.

    autobahn pretty-prints every new socket's 40 settings for a debug line that is off (7 % of a socket
    connect's CPU in a profile of 3,000 connects)."""

    __slots__ = ("value",)

    def __init__(self, value) -> None:
        self.value = value

    def __str__(self) -> str:
        return pprint.pformat(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


class CutlineCommandLine(CommandLineInterface):
    server_class = CutlineServer


def main(argv: list[str] | None = None) -> None:
    daphne_server.HTTPFactory = CutlineHTTPFactory
    daphne_server.WebSocketFactory = CutlineWebSocketFactory
    autobahn_protocol.pformat = _DeferredPformat
    autobahn_protocol.Timings.__str__ = lambda timings: pprint.pformat(timings._timings)  # its one non-log use
    CutlineCommandLine().run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
