"""Measure webhook delivery latency: the terminal event's commit → a real receiver on 127.0.0.1.

Starts a receiver (verifying every signature with the standardwebhooks verifier) and its own
`rqworker default` process, then fails N throwaway jobs one after another through the job services,
exactly as a render failing would, and reports commit→receiver latency percentiles. The bench user
and its rows are removed afterwards.

    DATABASE_URL=... REDIS_URL=... python manage.py bench_webhooks --jobs 100
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from jobs import services
from jobs.models import RenderJob, WebhookDelivery, WebhookEndpoint
from projects.models import Project

BENCH_USER = "bench-webhooks"


def _receiver(secret: str, arrivals: dict[str, float], invalid: list[str], done: threading.Condition):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            now = time.time()
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                Webhook(secret).verify(body, headers)
                with done:
                    arrivals.setdefault(headers["webhook-id"], now)
                    done.notify_all()
            except WebhookVerificationError:
                invalid.append(headers.get("webhook-id", "?"))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Command(BaseCommand):
    help = "Measure webhook delivery latency (commit → receiver) over N jobs with a real worker and receiver."

    def add_arguments(self, parser):
        parser.add_argument("--jobs", type=int, default=100)
        parser.add_argument("--gap", type=float, default=0.05, help="seconds between two jobs' events")
        parser.add_argument("--timeout", type=float, default=120.0)
        parser.add_argument("--worker-class", default="rq.worker.SimpleWorker",
                            help="rq.worker.SimpleWorker (no fork per job, as Procfile's `webhooks`) or rq.Worker")

    def handle(self, *args, jobs: int, gap: float, timeout: float, worker_class: str, **options):
        User = get_user_model()
        User.objects.filter(username=BENCH_USER).delete()
        user = User.objects.create(username=BENCH_USER, is_active=False)
        arrivals: dict[str, float] = {}
        invalid: list[str] = []
        done = threading.Condition()
        server = None
        worker = None
        try:
            endpoint = WebhookEndpoint.objects.create(owner=user, url="http://127.0.0.1/", events=["job.failed"])
            server = _receiver(endpoint.secret, arrivals, invalid, done)
            endpoint.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
            endpoint.save(update_fields=["url"])
            env = {**os.environ, "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32", "DATABASE_POOL": "0"}
            log = open(os.environ.get("BENCH_WORKER_LOG", os.devnull), "w")
            worker = subprocess.Popen([sys.executable, "manage.py", "rqworker", "default",
                                       "--worker-class", worker_class], env=env,
                                      cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True)
            self._wait_for_worker()
            project = Project.objects.create(owner=user, name="bench")
            for _ in range(jobs):
                job = RenderJob.objects.create(owner=user, project=project, timeline={}, preset="draft",
                                               output_width=16, output_height=16, output_fps=1.0)
                services.job_fail(job_id=job.id, error_code="RENDER_FAILED", error_message="bench")
                time.sleep(gap)
            with done:
                done.wait_for(lambda: len(arrivals) >= jobs, timeout=timeout)
            latencies = []
            for delivery in WebhookDelivery.objects.filter(endpoint=endpoint):
                arrived = arrivals.get(delivery.webhook_id)
                if arrived is not None and delivery.committed_at is not None:
                    latencies.append((arrived - delivery.committed_at.timestamp()) * 1000.0)
            self._report(jobs, latencies, invalid, worker_class)
        finally:
            if worker is not None:
                worker.terminate()
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()
            if server is not None:
                server.shutdown()
            user.delete()

    def _wait_for_worker(self) -> None:
        """Start the clock only once the worker listens (its start-up is not delivery latency)."""
        import django_rq
        from rq import Worker

        queue = django_rq.get_queue("default")
        deadline = time.monotonic() + 60
        while not Worker.count(queue=queue) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)

    def _report(self, jobs: int, latencies: list[float], invalid: list[str], worker_class: str) -> None:
        self.stdout.write(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {jobs} jobs, {len(latencies)} delivered, "
                          f"{len(invalid)} failed verification, worker {worker_class}, load {os.getloadavg()[0]:.1f}")
        if latencies:
            self.stdout.write(
                "commit → receiver (ms): "
                f"p50 {statistics.median(latencies):.1f}, p90 {_percentile(latencies, 0.9):.1f}, "
                f"p95 {_percentile(latencies, 0.95):.1f}, p99 {_percentile(latencies, 0.99):.1f}, "
                f"max {max(latencies):.1f}, mean {statistics.fmean(latencies):.1f}"
            )
