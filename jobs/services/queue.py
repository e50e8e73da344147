"""The RQ side of render jobs: the connection, the `render` queue, enqueuing and forgetting a job.

RQ job id = RenderJob id. The database is the truth; the queue only carries the work, so every
function here tolerates Redis being away (the sweeper re-enqueues what got lost).
"""

from __future__ import annotations

import logging
from functools import lru_cache

import django_rq
import redis
from django.conf import settings
from rq.callbacks import Callback
from rq.exceptions import NoSuchJobError
from rq.job import Job as RQJob
from rq.job import JobStatus

from jobs.errors import QueueUnavailable

logger = logging.getLogger("jobs.services")

# Referenced by name: jobs.tasks imports the services, so the services never import jobs.tasks.
RENDER_TASK = "jobs.tasks.render"
RENDER_STOPPED_CALLBACK = "jobs.tasks.render_stopped"


@lru_cache(maxsize=4)
def _redis_for(url: str, timeout: float) -> redis.Redis:
    # Short timeouts: when Redis is down a submit must answer 503 at once instead of hanging the request.
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=max(timeout, 5.0))


def queue_connection() -> redis.Redis:
    return _redis_for(settings.RQ_QUEUES["render"]["URL"], settings.REDIS_TIMEOUT)


def render_queue():
    # "auto": enqueue now. Callers already enqueue from `transaction.on_commit`, and must see Redis errors.
    return django_rq.get_queue("render", connection=queue_connection(), commit_mode="auto")


def queue_check() -> None:
    try:
        queue_connection().ping()
    except (redis.RedisError, OSError) as exc:
        logger.warning("render queue unavailable: %s", exc)
        raise QueueUnavailable(
            "Rendering is unavailable right now: the job queue does not answer. Your project is saved; "
            "try again in a minute."
        ) from None


def rq_job_fetch(job_id) -> RQJob | None:
    try:
        return RQJob.fetch(str(job_id), connection=queue_connection())
    except NoSuchJobError:
        return None


def rq_job_discard(job_id) -> None:
    """Forget the RQ side of a job (queue entry, registries, hash), unless a worker is running it right now."""
    try:
        rq_job = rq_job_fetch(job_id)
        if rq_job is not None and rq_job.get_status(refresh=False) != JobStatus.STARTED:
            rq_job.delete()
    except (redis.RedisError, OSError) as exc:
        logger.warning("job %s: could not remove it from the queue: %s", job_id, exc)


def job_enqueue(job_id) -> None:
    """Put the job on the `render` queue with RQ job id = job id. Called after commit.

    A failure here loses nothing: the job stays PENDING and the sweeper enqueues it again.
    """
    job_id = str(job_id)
    try:
        existing = rq_job_fetch(job_id)
        if existing is not None:
            # A previous attempt's hash (finished, failed, abandoned by a dead worker): replace it, so
            # RQ's own cleanup of that attempt cannot act on the new one.
            existing.delete()
        render_queue().enqueue(
            RENDER_TASK,
            job_id,
            job_id=job_id,
            job_timeout=settings.RENDER_JOB_TIMEOUT,
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            on_stopped=Callback(RENDER_STOPPED_CALLBACK),
            description=f"render {job_id}",
        )
    except (redis.RedisError, OSError) as exc:
        logger.warning("job %s: could not enqueue (%s); the sweeper will enqueue it later", job_id, exc)
