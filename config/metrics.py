"""`/metrics` in the Prometheus text format, gathered across every process of a deployment.

Two sources, so that any web process answers with the whole deployment's numbers:
- the database and the queues, read at scrape time: jobs by status, queue depth and age, render seconds
  and realtime-factor histograms (from finished jobs), webhook deliveries by status;
- observations pushed through Redis by each process (web, worker, sweeper): HTTP request durations,
  event publish→deliver latency, webhook attempt latencies, open SSE streams. Web processes buffer them
  and flush once a second from a daemon thread; worker code pushes at once (a work horse exits with
  the job). Open WebSockets are the presence slots realtime already keeps in Redis.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import socket
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from functools import lru_cache

import redis
from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.db.models import Count, F, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.decorators import sync_and_async_middleware
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

logger = logging.getLogger(__name__)

PREFIX = "cutline:metrics:"
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
WEBHOOK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
RENDER_SECONDS_BUCKETS = (1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
REALTIME_FACTOR_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
HISTOGRAMS = {
    "http_request_duration_seconds": ("HTTP request duration by method, route and status class.", HTTP_BUCKETS),
    "event_delivery_latency_seconds": ("Job event stored/published → sent to a socket or SSE stream.",
                                       LATENCY_BUCKETS),
    "webhook_attempt_duration_seconds": ("Duration of webhook delivery attempts by outcome.", WEBHOOK_BUCKETS),
}
# A process that stopped reporting its open SSE streams this long ago is gone: its count is dropped.
GAUGE_STALE_AFTER = 30.0


@lru_cache(maxsize=2)
def _redis_for(url: str, timeout: float) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)


def _redis() -> redis.Redis:
    return _redis_for(settings.REDIS_URL, settings.REDIS_TIMEOUT)


def _labels_key(labels: dict[str, str]) -> str:
    return json.dumps(labels, sort_keys=True, separators=(",", ":"))


class _Buffer:
    """Observations of this process, pushed to Redis by a daemon thread (or at once with `flush`)."""

    interval = 1.0

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.hist: dict[tuple[str, str], list[float]] = defaultdict(list)
        self.gauges: dict[str, int] = defaultdict(int)
        self.pid: int | None = None
        self.ident = f"{socket.gethostname()}:{os.getpid()}"

    def _ensure_thread(self) -> None:
        if self.pid != os.getpid():  # first use, or a forked child (RQ's work horse) without the thread
            self.pid = os.getpid()
            self.ident = f"{socket.gethostname()}:{self.pid}"
            threading.Thread(target=self._run, name="metrics-push", daemon=True).start()

    def observe(self, name: str, labels: dict[str, str], value: float) -> None:
        with self.lock:
            self._ensure_thread()
            self.hist[(name, _labels_key(labels))].append(value)

    def gauge_add(self, name: str, delta: int) -> None:
        with self.lock:
            self._ensure_thread()
            self.gauges[name] += delta

    def _run(self) -> None:
        while True:
            time.sleep(self.interval)
            self.flush()

    def flush(self) -> None:
        with self.lock:
            hist, self.hist = self.hist, defaultdict(list)
            gauges = dict(self.gauges)
        try:
            pipe = _redis().pipeline(transaction=False)
            for (name, labels), values in hist.items():
                key = f"{PREFIX}h:{name}"
                for value in values:
                    for le in HISTOGRAMS[name][1]:
                        if value <= le:
                            pipe.hincrby(key, f"{labels}|{le}", 1)
                    pipe.hincrbyfloat(key, f"{labels}|sum", value)
                    pipe.hincrby(key, f"{labels}|count", 1)
            now = time.time()
            for name, value in gauges.items():
                pipe.hset(f"{PREFIX}g:{name}", self.ident, value)
                pipe.hset(f"{PREFIX}g:{name}:seen", self.ident, now)
            pipe.execute()
        except (redis.RedisError, OSError) as exc:
            logger.debug("metrics not pushed (Redis unavailable): %s", exc)


_buffer = _Buffer()


# --- What the rest of the code calls (one line each) -----------------------------------------------------


def http_request_observe(*, method: str, route: str, status: int, seconds: float) -> None:
    _buffer.observe("http_request_duration_seconds",
                    {"method": method, "route": route, "status": f"{status // 100}xx"}, seconds)


def event_delivered(event: dict, *, via: str) -> None:
    """A job event was sent to a client (`via` socket or sse): latency from the event's `ts`."""
    try:
        sent = datetime.fromisoformat(str(event["ts"]).replace("Z", "+00:00")).timestamp()
    except (KeyError, ValueError, TypeError):
        return
    _buffer.observe("event_delivery_latency_seconds", {"via": via}, max(0.0, time.time() - sent))


def sse_streams_add(delta: int) -> None:
    _buffer.gauge_add("sse_streams_open", delta)


def webhook_attempt_observe(*, outcome: str, latency_ms: float | None) -> None:
    """Called in the worker's work horse, which exits after the job: pushed at once."""
    _buffer.observe("webhook_attempt_duration_seconds", {"outcome": outcome}, (latency_ms or 0.0) / 1000.0)
    _buffer.flush()


# --- Reading it all at scrape time ----------------------------------------------------------------------


def _pushed_histograms(conn: redis.Redis):
    for name, (help_text, buckets) in HISTOGRAMS.items():
        raw = conn.hgetall(f"{PREFIX}h:{name}")
        by_labels: dict[str, dict[str, float]] = defaultdict(dict)
        for field, value in raw.items():
            labels, _, part = field.decode().rpartition("|")
            by_labels[labels][part] = float(value)
        label_names = sorted({k for labels in by_labels for k in json.loads(labels)})
        family = HistogramMetricFamily(f"cutline_{name}", help_text, labels=label_names)
        for labels, parts in sorted(by_labels.items()):
            values = json.loads(labels)
            family.add_metric(
                [values.get(k, "") for k in label_names],
                [(str(le), parts.get(str(le), 0.0)) for le in buckets] + [("+Inf", parts.get("count", 0.0))],
                parts.get("sum", 0.0),
            )
        yield family


def _pushed_gauge(conn: redis.Redis, name: str) -> float:
    values, seen = conn.hgetall(f"{PREFIX}g:{name}"), conn.hgetall(f"{PREFIX}g:{name}:seen")
    cutoff = time.time() - GAUGE_STALE_AFTER
    return sum(float(v) for k, v in values.items() if float(seen.get(k, 0)) >= cutoff)


def _sockets_open(conn: redis.Redis) -> float:
    from realtime import presence

    cutoff = time.time() - presence._stale_after()
    total = 0
    for key in conn.scan_iter(match=presence._slot_key("*"), count=500):
        total += conn.zcount(key, cutoff, "+inf")
    return float(total)


def _db_histogram(name: str, help_text: str, expression, queryset, buckets) -> HistogramMetricFamily:
    aggregates = {f"le{i}": Count("pk", filter=Q(_v__lte=le)) for i, le in enumerate(buckets)}
    rows = queryset.annotate(_v=expression).filter(_v__isnull=False).aggregate(
        total=Count("pk"), total_sum=Sum("_v"), **aggregates)
    family = HistogramMetricFamily(name, help_text)
    family.add_metric([], [(str(le), rows[f"le{i}"]) for i, le in enumerate(buckets)] + [("+Inf", rows["total"])],
                      float(rows["total_sum"] or 0.0))
    return family


class CutlineCollector:
    def collect(self):
        from django.db.models import DurationField, ExpressionWrapper, FloatField
        from django.db.models.functions import Cast, Extract

        from jobs.models import RenderJob, WebhookDelivery

        jobs = GaugeMetricFamily("cutline_jobs", "Render jobs by status (from the database).", labels=["status"])
        counts = dict(RenderJob.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
        for status in RenderJob.Status.values:
            jobs.add_metric([status], counts.get(status, 0))
        yield jobs

        deliveries = GaugeMetricFamily("cutline_webhook_deliveries", "Webhook deliveries by status (database).",
                                       labels=["status"])
        counts = dict(WebhookDelivery.objects.values_list("status").annotate(n=Count("pk"))
                      .values_list("status", "n"))
        for status in WebhookDelivery.Status.values:
            deliveries.add_metric([status], counts.get(status, 0))
        yield deliveries

        finished = RenderJob.objects.filter(status=RenderJob.Status.SUCCEEDED, started_at__isnull=False,
                                            finished_at__isnull=False)
        seconds = Extract(ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField()),
                          "epoch") if _postgres() else None
        if seconds is not None:
            yield _db_histogram("cutline_render_seconds", "Wall time of succeeded renders (last attempt).",
                                Cast(seconds, FloatField()), finished, RENDER_SECONDS_BUCKETS)
            factor = ExpressionWrapper(F("result_duration") / Cast(seconds, FloatField()), output_field=FloatField())
            yield _db_histogram("cutline_render_realtime_factor",
                                "Seconds of video rendered per second of wall time.",
                                factor, finished.exclude(started_at=F("finished_at")), REALTIME_FACTOR_BUCKETS)

        try:
            conn = _redis()
            yield from self._queues(conn)
            yield from _pushed_histograms(conn)
            sse = GaugeMetricFamily("cutline_sse_streams_open", "Open SSE streams, all web processes.")
            sse.add_metric([], _pushed_gauge(conn, "sse_streams_open"))
            yield sse
            sockets = GaugeMetricFamily("cutline_websockets_open", "Open WebSockets, all web processes.")
            sockets.add_metric([], _sockets_open(conn))
            yield sockets
        except (redis.RedisError, OSError) as exc:
            logger.warning("metrics: Redis unavailable: %s", exc)
            up = CounterMetricFamily("cutline_metrics_redis_errors", "Scrapes that could not read Redis.")
            up.add_metric([], 1)
            yield up

    def _queues(self, conn):
        from rq import Queue

        depth = GaugeMetricFamily("cutline_queue_depth", "Jobs waiting in each RQ queue.", labels=["queue"])
        age = GaugeMetricFamily("cutline_queue_oldest_age_seconds", "Age of the oldest waiting job per queue.",
                                labels=["queue"])
        now = time.time()
        for name in settings.RQ_QUEUES:
            queue = Queue(name, connection=conn)
            depth.add_metric([name], queue.count)
            oldest = 0.0
            first = queue.get_job_ids(0, 1)
            if first:
                job = queue.fetch_job(first[0])
                if job is not None and job.enqueued_at is not None:
                    enqueued = job.enqueued_at
                    if enqueued.tzinfo is None:

                        enqueued = enqueued.replace(tzinfo=UTC)
                    oldest = max(0.0, now - enqueued.timestamp())
            age.add_metric([name], oldest)
        yield depth
        yield age


def _postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def metrics_text() -> bytes:
    _buffer.flush()  # this process's own recent observations too
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CutlineCollector())
    return generate_latest(registry)


def metrics_view(request: HttpRequest) -> HttpResponse:
    """`GET /metrics`: 404 unless METRICS_ENABLED; with METRICS_TOKEN set, wants `Authorization: Bearer <token>`."""
    if not settings.METRICS_ENABLED:
        raise Http404
    if settings.METRICS_TOKEN:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {settings.METRICS_TOKEN}".encode()):
            response = HttpResponse("Authentication required.\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)


@sync_and_async_middleware
def RequestMetricsMiddleware(get_response):
    """Times every HTTP request (not WebSockets) into `cutline_http_request_duration_seconds`."""

    def observe(request: HttpRequest, response, started: float) -> None:
        match = getattr(request, "resolver_match", None)
        route = (match.route or match.view_name) if match else "unmatched"
        http_request_observe(method=request.method or "", route=str(route)[:100], status=response.status_code,
                             seconds=time.monotonic() - started)

    if iscoroutinefunction(get_response):
        async def middleware(request: HttpRequest):
            started = time.monotonic()
            response = await get_response(request)
            observe(request, response, started)
            return response
    else:
        def middleware(request: HttpRequest):
            started = time.monotonic()
            response = get_response(request)
            observe(request, response, started)
            return response
    return middleware
