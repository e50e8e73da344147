"""Liveness and readiness endpoints for load balancers and `make run`'s newcomer."""

from __future__ import annotations

import logging

import django_rq
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from rq import Worker

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request):
    """The process is up and serving requests; nothing else is checked."""
    return JsonResponse({"status": "ok"})


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_redis_and_workers() -> tuple[str, str]:
    redis = django_rq.get_connection("render")
    redis.ping()
    workers = Worker.count(connection=redis)
    return "ok", ("ok" if workers else "no worker has registered with the queue")


@never_cache
@require_GET
def readyz(request):
    """Ready to take renders: database, Redis and at least one RQ worker answer.

    Answers 503 naming each part that failed, in words and without connection strings.
    """
    checks: dict[str, str] = {}
    try:
        checks["database"] = _check_database()
    except Exception as exc:
        logger.warning("readiness: database check failed: %s", exc)
        checks["database"] = "unreachable"
    try:
        checks["redis"], checks["workers"] = _check_redis_and_workers()
    except Exception as exc:
        logger.warning("readiness: redis check failed: %s", exc)
        checks["redis"] = "unreachable"
        checks["workers"] = "unknown (Redis is unreachable)"
    failed = sorted(name for name, result in checks.items() if result != "ok")
    ready = not failed
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "failed": failed, "checks": checks},
        status=200 if ready else 503,
    )
