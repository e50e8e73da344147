"""Measure WebSocket delivery against a running Cutline web process, beside a bare-Channels floor.

    python manage.py bench_realtime --url http://127.0.0.1:8000 [--sockets N --jobs M --rate R
        --seconds S --server-pid PID]

1. Creates M jobs (one owner each, so N/M sockets per owner stay under the per-user limit), claims them
   through `jobs.services` so they are RUNNING, and opens N WebSockets to `/ws/jobs/{id}` (socket i on
   job i mod M) with tickets, as an SPA would.
2. With every socket idle, reads the server's RSS (`--server-pid`) before and after: memory per socket.
3. A separate publisher process stores and publishes progress events through the real path
   (`jobs.services.job_progress_record`: row lock, `seq + 1`, JobEvent, `realtime.events.publish` on
   commit) for `--publish-jobs` of the jobs at `--rate` events/s each for `--seconds`.
4. Delivery latency = when a socket received an event − the event's `ts` (stamped inside the storing
   transaction, so it includes the commit and the publish); lost = stored events a socket never got.
5. Then starts, on a free port, the floor: a bare Channels app (`floor_application` below, a consumer
   that only joins the job's group and forwards what it hears, never routed in production) with the
   same channel layer settings and the same GC settings, served by the same server as Cutline
   (`python -m config.web`, daphne with Cutline's fixes; `BENCH_FLOOR_SERVER=daphne` for stock daphne,
   which spends ~0.1 ms per connect more on autobahn's pretty-printing), and runs the identical load.

6. Then `--connect-rounds` (3) connect-only rounds with both servers up, Cutline's and the floor's
   interleaved: N sockets open (to Cutline: each until its snapshot arrived), the server's CPU is read,
   they close. connect_ms_cpu and connect_ratio are the medians over the run's connect and these rounds
   (a single pair, taken minutes apart, swings with the machine's load more than the code differs).

Everything is on loopback, bounded in time, and stops by itself; it kills only the floor it started.
The last line is the summary:
`p99_ms=<x> floor_p99_ms=<x> p99_ratio=<x> lost=<n> kb_per_socket=<x> floor_kb_per_socket=<x>
connect_ms_cpu=<x> floor_connect_ms_cpu=<x> connect_ratio=<x> sockets=<n>` (connect_ms_cpu: the server's
CPU time, user + system, while the N sockets connect and receive their snapshot, divided by N; needs
`--server-pid` for Cutline, the floor's PID is known).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.management.base import BaseCommand, CommandError

from jobs.render.procs import process_info, process_rss_kib

BASE_DIR = Path(__file__).resolve().parents[3]
HEARTBEAT_INTERVAL = 10.0  # seconds; well under RENDER_HEARTBEAT_TIMEOUT (60 s by default)


# --- The floor: bare Channels, for comparison only ------------------------------------------------------


class FloorConsumer(AsyncJsonWebsocketConsumer):
    """Joins `job.<id>` (the last path segment) and forwards every group message's event. Nothing else.

    A fair floor: it dispatches like Cutline's consumers (realtime/consumers.py), without Channels' default
    `aclose_old_connections()` thread hop before every message. With that hop the floor was slower than
    Cutline and flattered the ratio (p99_ratio 0.32-0.88 against 1.04 with a fair floor).
    """

    async def dispatch(self, message):
        if os.environ.get("BENCH_FLOOR_DISPATCH") == "stock":  # the old, unfair floor, to compare against
            return await super().dispatch(message)
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self):
        self.group = "job." + self.scope["path"].rstrip("/").rsplit("/", 1)[-1]
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def job_event(self, message):
        await self.send_json(message["event"])


_floor_app = None


async def floor_application(scope, receive, send):
    """The ASGI app daphne serves for the floor (`...bench_realtime:floor_application`)."""
    global _floor_app
    if _floor_app is None:
        import django

        django.setup(set_prefix=False)
        from channels.routing import ProtocolTypeRouter

        _floor_app = ProtocolTypeRouter({"websocket": FloorConsumer.as_asgi()})
        _apply_gc_settings()
    return await _floor_app(scope, receive, send)


def _apply_gc_settings() -> None:
    """The same process tuning config/asgi.py applies, so the floor differs from Cutline only in the app."""
    from django.conf import settings

    if os.environ.get("BENCH_FLOOR_GC", "same") == "same" and settings.WEB_GC_GEN0_THRESHOLD:
        gc.set_threshold(settings.WEB_GC_GEN0_THRESHOLD, 50, 100)
        gc.collect()
        gc.freeze()


# --- Measuring ------------------------------------------------------------------------------------------


def _rss_kb(pid: int) -> int | None:
    return process_rss_kib(pid)


def _cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time the process has used so far."""
    info = process_info(pid) if pid else None
    return info.cpu_seconds if info else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ts_seconds(ts: str) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


@dataclass
class RunResult:
    name: str
    sockets: int
    connected: int
    latencies_ms: list[float] = field(default_factory=list)
    lost: int = 0
    expected: int = 0
    kb_per_socket: float = float("nan")
    connect_seconds: float = 0.0
    connect_ms_cpu: float = float("nan")
    # Every connect-only measurement: the run's own, then the interleaved rounds (`--connect-rounds`).
    connect_samples: list[float] = field(default_factory=list)
    published: int = 0

    def p(self, pct: float) -> float:
        return _percentile(self.latencies_ms, pct)


class _Owner:
    """What `ticket_issue` needs of a user."""

    def __init__(self, pk: int) -> None:
        self.pk = pk


class _Socket:
    __slots__ = ("job_id", "seqs", "ws")

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        self.seqs: set[int] = set()
        self.ws = None


class Command(BaseCommand):
    help = "Measure realtime delivery latency, loss and memory per socket against a running server and a bare floor."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="base URL of the running Cutline server")
        parser.add_argument("--sockets", type=int, default=1000)
        parser.add_argument("--jobs", type=int, default=100, help="jobs the sockets are spread over")
        parser.add_argument("--publish-jobs", type=int, default=10, help="how many of the jobs get events")
        parser.add_argument("--rate", type=float, default=20.0, help="events per second per publishing job")
        parser.add_argument("--seconds", type=float, default=20.0, help="how long events are published")
        parser.add_argument("--server-pid", type=int, default=None, help="the server's PID, for its RSS")
        parser.add_argument("--no-floor", action="store_true", help="skip the bare-Channels floor run")
        parser.add_argument("--connect-concurrency", type=int, default=100)
        parser.add_argument(
            "--connect-rounds", type=int, default=3,
            help="extra connect-only rounds, Cutline and floor interleaved, for connect_ms_cpu (needs --server-pid)",
        )
        # Internal: the publisher child process.
        parser.add_argument("--publisher", default=None, help=json.dumps("internal"))

    # --- entry ------------------------------------------------------------------------------------------
    def handle(self, *args, **options):
        if options["publisher"]:
            self._publish(json.loads(options["publisher"]))
            return
        if options["sockets"] < 1 or options["jobs"] < 1 or not 1 <= options["publish_jobs"] <= options["jobs"]:
            raise CommandError("--sockets and --jobs must be positive, and 1 <= --publish-jobs <= --jobs.")
        if options["seconds"] > 600 or options["sockets"] > 20000 or not 0 <= options["connect_rounds"] <= 20:
            raise CommandError("Bounded: at most 600 seconds, 20,000 sockets and 20 connect rounds.")
        self._raise_fd_limit(options["sockets"])
        parsed = urlparse(options["url"])
        if parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise CommandError("The benchmark only talks to a server on loopback.")

        cutline = self._run(
            "cutline", options["url"].rstrip("/"), "/ws/jobs/", options, server_pid=options["server_pid"]
        )
        floor = None
        if not options["no_floor"]:
            port = _free_port()
            proc = self._start_floor(port)
            try:
                floor = self._run("floor", f"http://127.0.0.1:{port}", "/floor/", options, server_pid=proc.pid)
                if options["server_pid"] and options["connect_rounds"]:
                    self._connect_rounds(cutline, floor, options, f"http://127.0.0.1:{port}", proc.pid)
            finally:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=5)
        self._report(cutline, floor)

    def _raise_fd_limit(self, sockets: int) -> None:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = min(hard, max(soft, sockets + 1024))
        if wanted > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        if wanted < sockets + 256:
            raise CommandError(f"ulimit -n is {hard}; {sockets} sockets need more (raise the hard limit).")

    def _start_floor(self, port: int) -> subprocess.Popen:
        # The same server as Cutline's (config/web.py), so the floor differs from Cutline only in the app.
        server = "daphne" if os.environ.get("BENCH_FLOOR_SERVER") == "daphne" else "config.web"
        args = [
            sys.executable, "-m", server, "-b", "127.0.0.1", "-p", str(port),
            "realtime.management.commands.bench_realtime:floor_application",
        ]
        env = dict(os.environ, DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings"))
        proc = subprocess.Popen(
            args, cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=self._child_fd_limit,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise CommandError("the floor server exited at start")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return proc
            except OSError:
                time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)
        raise CommandError("the floor server did not start within 30 s")

    @staticmethod
    def _child_fd_limit() -> None:
        _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    # --- one run ----------------------------------------------------------------------------------------
    def _run(self, name: str, base_url: str, ws_prefix: str, options, *, server_pid: int | None) -> RunResult:
        self._remove_leftovers()
        jobs = self._create_jobs(options["jobs"])
        stop = threading.Event()
        beating = threading.Thread(target=self._heartbeat, args=([job_id for job_id, _ in jobs], stop), daemon=True)
        beating.start()
        try:
            self.stdout.write(f"[{name}] {options['sockets']} sockets over {len(jobs)} jobs at {base_url}")
            return asyncio.run(self._run_async(name, base_url, ws_prefix, jobs, options, server_pid))
        finally:
            stop.set()
            beating.join()
            self._remove_jobs(jobs)

    @staticmethod
    def _heartbeat(job_ids: list[str], stop: threading.Event) -> None:
        """Keep the run's RUNNING jobs' heartbeats fresh, as a worker would: a run longer than
        RENDER_HEARTBEAT_TIMEOUT must not have them taken for lost and re-queued by a sweeper meanwhile."""
        from django.db import connection

        from jobs import services

        try:
            while not stop.wait(HEARTBEAT_INTERVAL):
                for job_id in job_ids:
                    services.job_heartbeat(job_id=job_id, attempt=1)
        finally:
            connection.close()

    def _remove_leftovers(self) -> None:
        """Users (and their jobs) an earlier run left when it was killed before its own clean-up."""
        from django.contrib.auth import get_user_model

        stale = get_user_model().objects.filter(username__startswith="bench-", render_jobs__worker_name="bench")
        deleted, _ = get_user_model().objects.filter(pk__in=stale.values("pk")).delete()
        if deleted:
            self.stdout.write(f"removed what an earlier, interrupted run left ({deleted} rows)")

    def _remove_jobs(self, jobs: list[tuple[str, int]]) -> None:
        """Delete what the run created (its users, and with them their projects, jobs and events).

        Left RUNNING with no heartbeat, the sweeper would re-queue them and a real worker render them.
        """
        from django.contrib.auth import get_user_model

        owners = {owner_id for _, owner_id in jobs}
        deleted, _ = get_user_model().objects.filter(pk__in=owners, username__startswith="bench-").delete()
        self.stdout.write(f"removed the {len(owners)} benchmark users and their jobs ({deleted} rows)")

    def _create_jobs(self, count: int) -> list[tuple[str, int]]:
        """`count` RUNNING jobs, each with its own owner: (job id, owner id)."""
        from django.contrib.auth import get_user_model

        from jobs import services
        from jobs.models import RenderJob
        from projects.models import Project

        stamp = f"{int(time.time())}-{os.getpid()}"
        users = get_user_model().objects.bulk_create(
            [get_user_model()(username=f"bench-{stamp}-{i}") for i in range(count)]
        )
        projects = Project.objects.bulk_create(
            [Project(owner=user, name=f"bench {i}") for i, user in enumerate(users)]
        )
        jobs = RenderJob.objects.bulk_create(
            [
                RenderJob(owner=project.owner, project=project, timeline=project.timeline, preset="draft",
                          output_width=320, output_height=180, output_fps=30.0)
                for project in projects
            ]
        )
        for job in jobs:
            services.job_claim(job_id=job.pk, worker_name="bench")
        return [(str(job.pk), job.owner_id) for job in jobs]

    async def _run_async(self, name, base_url, ws_prefix, jobs, options, server_pid) -> RunResult:
        from websockets.asyncio.client import connect

        from realtime.tickets import ticket_issue

        n = options["sockets"]
        result = RunResult(name=name, sockets=n, connected=0)
        ws_base = base_url.replace("http://", "ws://", 1)
        origin = base_url
        sockets = [_Socket(jobs[i % len(jobs)][0]) for i in range(n)]
        owners = {job_id: owner_id for job_id, owner_id in jobs}
        publishing = {job_id for job_id, _ in jobs[: options["publish_jobs"]]}
        receiving = asyncio.Event()
        tickets: dict[int, tuple[float, str]] = {}

        def ticket(owner_id: int) -> str:
            issued = tickets.get(owner_id)
            if issued is None or time.monotonic() - issued[0] > 30:
                issued = (time.monotonic(), ticket_issue(user=_Owner(owner_id)))
                tickets[owner_id] = issued
            return issued[1]

        def path_for(sock: _Socket) -> str:
            if ws_prefix == "/ws/jobs/":
                return f"{ws_base}/ws/jobs/{sock.job_id}?token={ticket(owners[sock.job_id])}"
            return f"{ws_base}{ws_prefix}{sock.job_id}"

        async def open_one(sock: _Socket, gate: asyncio.Semaphore) -> None:
            async with gate:
                for attempt in range(3):
                    try:
                        sock.ws = await connect(
                            path_for(sock), origin=origin, compression=None, proxy=None, open_timeout=60,
                            ping_interval=None, max_queue=None, close_timeout=2,
                        )
                        if ws_prefix == "/ws/jobs/":
                            first = json.loads(await asyncio.wait_for(sock.ws.recv(), 60))
                            if first.get("type") != "job.snapshot":
                                raise CommandError(f"expected a snapshot first, got {first}")
                        result.connected += 1
                        return
                    except Exception as exc:  # retried, then reported
                        if attempt == 2:
                            self.stderr.write(f"[{name}] socket to {sock.job_id} failed: {exc!r}")
                        await asyncio.sleep(0.5)

        async def listen(sock: _Socket) -> None:
            ws = sock.ws
            try:
                async for raw in ws:
                    now = time.time()
                    if not receiving.is_set():
                        continue
                    event = json.loads(raw)
                    if event.get("type") == "job.progress":
                        result.latencies_ms.append((now - _ts_seconds(event["ts"])) * 1000)
                        sock.seqs.add(event["seq"])
            except Exception:  # noqa: S110 - a closed socket ends its listener; loss is counted after
                pass

        # Warm the server's code paths (imports, caches, pools) so the RSS baseline is not a cold start.
        warm = [_Socket(jobs[i % len(jobs)][0]) for i in range(min(20, n))]
        gate = asyncio.Semaphore(options["connect_concurrency"])
        await asyncio.gather(*(open_one(s, gate) for s in warm))
        await asyncio.gather(*(s.ws.close() for s in warm if s.ws is not None))
        result.connected = 0
        await asyncio.sleep(2)

        rss_before = _rss_kb(server_pid) if server_pid else None
        started, cpu_started = time.monotonic(), _cpu_seconds(server_pid)
        await asyncio.gather(*(open_one(s, gate) for s in sockets))
        result.connect_seconds = time.monotonic() - started
        cpu = _cpu_seconds(server_pid)
        cpu_note = ""
        if cpu is not None and cpu_started is not None:
            result.connect_ms_cpu = 1000 * (cpu - cpu_started) / n
            result.connect_samples.append(result.connect_ms_cpu)
            cpu_note = f", server CPU {result.connect_ms_cpu:.2f} ms per connect"
        self.stdout.write(f"[{name}] {result.connected}/{n} connected in {result.connect_seconds:.1f} s{cpu_note}")
        listeners = [asyncio.ensure_future(listen(s)) for s in sockets if s.ws is not None]
        await asyncio.sleep(3)  # idle sockets, settled
        rss_after = _rss_kb(server_pid) if server_pid else None
        if rss_before is not None and rss_after is not None and result.connected:
            result.kb_per_socket = (rss_after - rss_before) / result.connected
            self.stdout.write(f"[{name}] server RSS {rss_before} -> {rss_after} kB")

        receiving.set()
        cpu_started = _cpu_seconds(server_pid)
        published = await self._publish_from_child(list(publishing), options)
        await asyncio.sleep(3)  # let the last deliveries land
        receiving.clear()
        cpu = _cpu_seconds(server_pid)
        if cpu is not None and result.latencies_ms:
            self.stdout.write(
                f"[{name}] server CPU {1e6 * (cpu - cpu_started) / len(result.latencies_ms):.0f} us per delivery"
            )

        for sock in sockets:
            expected = published.get(sock.job_id)
            if expected and sock.ws is not None:
                result.expected += len(expected)
                result.lost += len(set(expected) - sock.seqs)
            elif expected:
                result.expected += len(expected)
                result.lost += len(expected)
        result.published = sum(len(v) for v in published.values())
        await asyncio.gather(*(s.ws.close() for s in sockets if s.ws is not None), return_exceptions=True)
        for task in listeners:
            task.cancel()
        await asyncio.gather(*listeners, return_exceptions=True)
        self._print_run(result, options)
        return result

    def _connect_rounds(self, cutline: RunResult, floor: RunResult, options, floor_url: str, floor_pid: int) -> None:
        """Connect-only rounds with both servers up, Cutline then the floor in each, on fresh jobs."""
        self._remove_leftovers()
        jobs = self._create_jobs(options["jobs"])
        try:
            asyncio.run(self._connect_rounds_async(cutline, floor, jobs, options, floor_url, floor_pid))
        finally:
            self._remove_jobs(jobs)
        self.stdout.write(
            "[connect] ms of server CPU per connect, run then rounds: cutline "
            + " ".join(f"{ms:.2f}" for ms in cutline.connect_samples) + "; floor "
            + " ".join(f"{ms:.2f}" for ms in floor.connect_samples) + "; ratios "
            + " ".join(f"{c / f:.2f}" if f > 0 else "nan"
                       for c, f in zip(cutline.connect_samples, floor.connect_samples, strict=True))
        )

    async def _connect_rounds_async(self, cutline: RunResult, floor: RunResult, jobs, options, floor_url: str,
                                    floor_pid: int) -> None:
        targets = [
            (cutline, options["url"].rstrip("/"), "/ws/jobs/", options["server_pid"]),
            (floor, floor_url, "/floor/", floor_pid),
        ]
        for _ in range(options["connect_rounds"]):
            for result, base_url, ws_prefix, server_pid in targets:
                ms = await self._connect_round(base_url, ws_prefix, jobs, options, server_pid)
                result.connect_samples.append(ms)

    async def _connect_round(self, base_url: str, ws_prefix: str, jobs, options, server_pid: int) -> float:
        """Open `--sockets` sockets (to Cutline: each until its snapshot arrived) and close them again; the
        server's CPU time per connect (ms) while they opened."""
        from websockets.asyncio.client import connect

        from realtime.tickets import ticket_issue

        n = options["sockets"]
        ws_base = base_url.replace("http://", "ws://", 1)
        tickets = {owner_id: ticket_issue(user=_Owner(owner_id)) for _, owner_id in jobs}
        gate = asyncio.Semaphore(options["connect_concurrency"])
        opened = []

        async def open_one(i: int) -> None:
            job_id, owner_id = jobs[i % len(jobs)]
            if ws_prefix == "/ws/jobs/":
                url = f"{ws_base}/ws/jobs/{job_id}?token={tickets[owner_id]}"
            else:
                url = f"{ws_base}{ws_prefix}{job_id}"
            async with gate:
                ws = await connect(url, origin=base_url, compression=None, proxy=None, open_timeout=60,
                                   ping_interval=None, close_timeout=2)
                opened.append(ws)
                if ws_prefix == "/ws/jobs/":
                    first = json.loads(await asyncio.wait_for(ws.recv(), 60))
                    if first.get("type") != "job.snapshot":
                        raise CommandError(f"expected a snapshot first, got {first}")

        cpu_started = _cpu_seconds(server_pid)
        try:
            await asyncio.gather(*(open_one(i) for i in range(n)))
            cpu = _cpu_seconds(server_pid)
        finally:
            await asyncio.gather(*(ws.close() for ws in opened), return_exceptions=True)
        await asyncio.sleep(2)  # the closes settle before the other server's round
        return 1000 * (cpu - cpu_started) / n

    async def _publish_from_child(self, job_ids: list[str], options) -> dict[str, list[int]]:
        spec = json.dumps({"jobs": job_ids, "rate": options["rate"], "seconds": options["seconds"]})
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(BASE_DIR / "manage.py"), "bench_realtime", "--publisher", spec,
            cwd=BASE_DIR, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), options["seconds"] + 120)
        except TimeoutError:
            proc.kill()
            raise CommandError("the publisher did not finish in time") from None
        if proc.returncode != 0:
            raise CommandError(f"the publisher failed:\n{err.decode()[-2000:]}")
        report = json.loads(out.decode().strip().splitlines()[-1])
        self.stdout.write(
            f"publisher: {report['published']} events in {report['elapsed']:.1f} s "
            f"({report['published'] / max(report['elapsed'], 1e-9):.0f}/s), "
            f"at most {report['late_ms']:.0f} ms behind schedule"
        )
        return report["seqs"]

    # --- the publisher child ----------------------------------------------------------------------------
    def _publish(self, spec: dict) -> None:
        """One thread per job, so a slow commit on one job does not delay the others' schedule."""
        import threading

        from django.db import connection

        from jobs import services
        from jobs.models import RenderJob

        interval = 1.0 / spec["rate"]
        attempts = {
            str(pk): attempt
            for pk, attempt in RenderJob.objects.filter(pk__in=spec["jobs"]).values_list("pk", "attempt")
        }
        seqs: dict[str, list[int]] = {job_id: [] for job_id in spec["jobs"]}
        late = dict.fromkeys(spec["jobs"], 0.0)
        started = time.monotonic() + 0.2

        def publish_job(job_id: str) -> None:
            tick = 0
            try:
                while tick * interval < spec["seconds"]:
                    pause = started + tick * interval - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
                    else:
                        late[job_id] = max(late[job_id], -pause)
                    job = services.job_progress_record(
                        job_id=job_id, attempt=attempts[job_id], phase="ENCODE",
                        progress=min(99.0, tick * 0.01), message=f"bench tick {tick}",
                    )
                    if job is not None:
                        seqs[job_id].append(job.last_seq)
                    tick += 1
            finally:
                connection.close()

        threads = [threading.Thread(target=publish_job, args=(job_id,)) for job_id in spec["jobs"]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        report = {
            "seqs": seqs, "published": sum(len(v) for v in seqs.values()), "elapsed": elapsed,
            "late_ms": max(late.values()) * 1000,
        }
        self.stdout.write(json.dumps(report))

    # --- output -----------------------------------------------------------------------------------------
    def _print_run(self, result: RunResult, options) -> None:
        lat = result.latencies_ms
        deliveries_per_s = len(lat) / options["seconds"] if options["seconds"] else 0
        self.stdout.write(
            f"[{result.name}] deliveries={len(lat)} (~{deliveries_per_s:.0f}/s) expected={result.expected} "
            f"lost={result.lost} p50_ms={result.p(50):.1f} p95_ms={result.p(95):.1f} p99_ms={result.p(99):.1f} "
            f"max_ms={max(lat) if lat else float('nan'):.1f} "
            f"mean_ms={statistics.fmean(lat) if lat else float('nan'):.1f} "
            f"kb_per_socket={result.kb_per_socket:.1f}"
        )

    def _report(self, cutline: RunResult, floor: RunResult | None) -> None:
        floor_p99 = floor.p(99) if floor else float("nan")
        floor_kb = floor.kb_per_socket if floor else float("nan")
        floor_connect = floor.connect_ms_cpu if floor else float("nan")
        connect_ratio = cutline.connect_ms_cpu / floor_connect if floor and floor_connect > 0 else float("nan")
        if floor and len(cutline.connect_samples) > 1 and len(cutline.connect_samples) == len(floor.connect_samples):
            # Medians over the run and the interleaved rounds: a single pair minutes apart swings with the load.
            pairs = list(zip(cutline.connect_samples, floor.connect_samples, strict=True))
            cutline.connect_ms_cpu = statistics.median(c for c, _ in pairs)
            floor_connect = statistics.median(f for _, f in pairs)
            connect_ratio = statistics.median(c / f for c, f in pairs if f > 0)
        ratio = cutline.p(99) / floor_p99 if floor and floor_p99 > 0 else float("nan")
        self.stdout.write(
            f"p99_ms={cutline.p(99):.1f} floor_p99_ms={floor_p99:.1f} p99_ratio={ratio:.2f} lost={cutline.lost} "
            f"kb_per_socket={cutline.kb_per_socket:.1f} floor_kb_per_socket={floor_kb:.1f} "
            f"connect_ms_cpu={cutline.connect_ms_cpu:.2f} floor_connect_ms_cpu={floor_connect:.2f} "
            f"connect_ratio={connect_ratio:.2f} sockets={cutline.connected}"
        )
