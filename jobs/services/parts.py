"""Segment-parallel renders: a job's uncached segments fanned out as RQ jobs ("parts") to idle workers.

The job's own worker (the parent) keeps rendering segments in order; each part renders one segment on
whichever worker takes it. Parts hand their output over through the segment cache (shared storage), so a
part is just "put this key in the cache". Who encodes a segment is decided by a claim in Redis
(`SET NX` with a short TTL that the encoder keeps refreshing, and refreshes or releases only while it still
holds the value it set): never two encoders for one segment, and a part whose worker died (SIGKILL, machine
gone) lets its claim lapse, after which the parent encodes the segment itself.

Cancel: when the parent's render ends for any reason (done, failed, canceled) it raises a stop flag and
cancels the parts still queued; a running part sees the flag within its cancel-check interval, stops its
encoder and removes its scratch directory (named `<job id>.part<N>`, so the job's clean-up finds it too).
Progress: parts write their frame counts to a Redis hash the parent adds into the job's one progress.
"""

from __future__ import annotations

import contextvars
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError

logger = logging.getLogger("jobs.services")

PART_TASK = "jobs.tasks.render_part"
CLAIM_TTL = 8  # seconds a claim lives without being refreshed
CLAIM_REFRESH = 1.0
_parent: contextvars.ContextVar[str | None] = contextvars.ContextVar("render_parent", default=None)
_parent_row: contextvars.ContextVar[bool] = contextvars.ContextVar("render_parent_row", default=True)


def _conn():
    from jobs.services.queue import queue_connection

    return queue_connection()


def _claim_key(key: str) -> str:
    from jobs.render.segment_cache import namespaced_key

    # A separate segment cache (the bench's) has its own claims: its encoders never hold up the deployment's.
    return namespaced_key("cutline:part-claim", key)


def _stop_key(parent: str) -> str:
    return f"cutline:parts-stop:{parent}"


def _progress_key(parent: str) -> str:
    return f"cutline:parts-progress:{parent}"


def _queued_key(parent: str) -> str:
    return f"cutline:parts-queued:{parent}"


@contextmanager
def parts_for(job_id, *, job_row: bool = True) -> Iterator[None]:
    """Within this block, renders may fan their segments out as parts of job `job_id` (`job_row=False`: no
    RenderJob row to watch, as in bench_render; only the stop flag ends the parts)."""
    parent = str(job_id)
    token, row_token = _parent.set(parent), _parent_row.set(job_row)
    try:
        yield
    finally:
        _parent.reset(token)
        _parent_row.reset(row_token)
        parts_stop(parent)


def parts_parent() -> str | None:
    """The job whose parts this render may enqueue, when parallel parts are on."""
    parent = _parent.get()
    if parent is None or not settings.RENDER_PARTS or settings.RENDER_SEGMENT_CACHE_MB <= 0:
        return None
    return parent


def idle_workers() -> int:
    """Workers listening on the render queue with nothing to do right now."""
    try:
        from rq import Worker

        from jobs.services.queue import render_queue

        return sum(1 for worker in Worker.all(queue=render_queue()) if worker.get_state() == "idle")
    except Exception:
        logger.warning("could not count idle workers", exc_info=True)
        return 0


def claim(key: str, owner: str) -> bool:
    try:
        return bool(_conn().set(_claim_key(key), owner, nx=True, ex=CLAIM_TTL))
    except Exception:
        logger.warning("part claim for %s failed; encoding it here", key, exc_info=True)
        return True


# A claim that lapsed may have been taken by another encoder since: refreshing or releasing it must touch the
# claim only while it is still ours, in one step (a GET then an EXPIRE or DEL could act on the new owner's).
_REFRESH_IF_OWNED = """
if redis.call("GET", KEYS[1]) == ARGV[1] then
    return redis.call("EXPIRE", KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE_IF_OWNED = """
if redis.call("GET", KEYS[1]) == ARGV[1] then
    return redis.call("DEL", KEYS[1])
end
return 0
"""


def claim_refresh(key: str, owner: str) -> bool:
    """Give our claim on `key` another CLAIM_TTL; False when it is no longer ours (lapsed, or re-taken)."""
    try:
        conn = _conn()
        return bool(conn.register_script(_REFRESH_IF_OWNED)(keys=[_claim_key(key)], args=[owner, CLAIM_TTL]))
    except Exception:
        logger.warning("part claim refresh for %s failed", key, exc_info=True)
        return False


def claim_release(key: str, owner: str) -> bool:
    """Drop our claim on `key`; a claim another encoder holds now stays. True when ours was deleted."""
    try:
        conn = _conn()
        return bool(conn.register_script(_RELEASE_IF_OWNED)(keys=[_claim_key(key)], args=[owner]))
    except Exception:
        logger.warning("part claim release for %s failed", key, exc_info=True)
        return False


def claim_held(key: str) -> bool:
    try:
        return bool(_conn().exists(_claim_key(key)))
    except Exception:
        return False


def parts_enqueue(parent: str, items: list[dict]) -> int:
    """Queue one part per item ({"index", "key", "plan", "encoder", "frames"}), last segment first."""
    from jobs.render.segment_cache import cache_namespace_current
    from jobs.services.queue import render_queue

    queue = render_queue()
    conn = _conn()
    # The part stores its segment where this render looks for it. Named only when it is not the deployment's
    # cache, so that a part of a job never carries an argument a worker of the previous release lacks.
    namespace = cache_namespace_current()
    extra = {"cache_namespace": namespace} if namespace else {}
    conn.delete(_stop_key(parent), _progress_key(parent))
    count = 0
    for item in sorted(items, key=lambda i: -i["index"]):
        rq_id = f"{parent}-part{item['index']}"  # RQ ids: letters, digits, "-" and "_" only
        queue.enqueue(PART_TASK, kwargs={"parent": parent, "job_row": _parent_row.get(), **extra, **item},
                      job_id=rq_id, job_timeout=settings.RENDER_JOB_TIMEOUT, result_ttl=0, failure_ttl=3600,
                      description=f"render {parent} part {item['index']}")
        conn.sadd(_queued_key(parent), rq_id)
        count += 1
    conn.expire(_queued_key(parent), settings.RENDER_JOB_TIMEOUT)
    return count


def parts_stop(parent: str) -> None:
    """The parent's render is over: running parts stop, queued ones never start."""
    try:
        from rq.job import Job

        conn = _conn()
        conn.set(_stop_key(parent), "1", ex=3600)
        for raw in conn.smembers(_queued_key(parent)):
            try:
                job = Job.fetch(raw.decode(), connection=conn)
            except Exception:
                logger.debug("part %s already gone", raw)
                continue
            if job.get_status(refresh=False) in ("queued", "deferred", "scheduled"):
                job.cancel()
                job.delete()
        conn.delete(_queued_key(parent), _progress_key(parent))
    except Exception:
        logger.warning("job %s: could not stop its parts", parent, exc_info=True)


def parts_stopped(parent: str) -> bool:
    try:
        return bool(_conn().exists(_stop_key(parent)))
    except Exception:
        return False


def parent_over(parent: str) -> bool:
    """True when the parent job's row says it is no longer running (a killed work horse never raised the stop
    flag). A parent without a row (the bench, the tests) is over only by the flag."""
    from jobs.models import RenderJob

    try:
        status = RenderJob.objects.filter(pk=parent).values_list("status", flat=True).first()
    except (ValueError, ValidationError):
        return False
    except DatabaseError:
        logger.warning("part of %s: the job's row could not be read; the stop flag decides", parent)
        return False
    return status is not None and status != RenderJob.Status.RUNNING


def parts_progress(parent: str) -> int:
    """Frames the running parts have encoded so far."""
    try:
        return sum(int(v) for v in _conn().hvals(_progress_key(parent)))
    except Exception:
        return 0


def part_progress_clear(parent: str, key: str) -> None:
    try:
        _conn().hdel(_progress_key(parent), key)
    except Exception:
        logger.debug("part progress of %s not cleared", key)


def part_render(*, parent: str, index: int, key: str, plan: str, encoder: list[str], frames: int,
                job_row: bool = True, cache_namespace: str = "") -> str:
    """Encode one segment of job `parent` into the segment cache (the parent's `cache_namespace`), unless it is
    there, taken or stopped."""
    from jobs.render import segment_cache

    with segment_cache.cache_namespace(cache_namespace):
        return _part_render(parent=parent, index=index, key=key, plan=plan, encoder=encoder, frames=frames,
                            job_row=job_row)


def _part_render(*, parent: str, index: int, key: str, plan: str, encoder: list[str], frames: int,
                 job_row: bool) -> str:
    from jobs.render import segment_cache
    from jobs.render.errors import RenderCanceled
    from jobs.render.plan import RenderPlan
    from jobs.render.progress import RenderMonitor
    from jobs.render.segments import segment_encode

    # Unique across machines: work horses in separate containers can share a pid.
    owner = f"part:{os.getpid()}:{index}:{uuid.uuid4().hex}"
    if parts_stopped(parent) or (job_row and parent_over(parent)):
        return "stopped"
    if segment_cache.cache_has(key):
        return "cached"
    if not claim(key, owner):
        return "taken"
    work = Path(settings.RENDER_WORK_DIR) / f"{parent}.part{index}"
    last = {"refresh": time.monotonic(), "progress": 0.0}
    conn = _conn()

    def should_cancel() -> bool:
        now = time.monotonic()
        if now - last["refresh"] >= CLAIM_REFRESH:
            last["refresh"] = now
            claim_refresh(key, owner)
            if job_row and parent_over(parent):
                return True
        return parts_stopped(parent)

    def on_frame(frame: int) -> None:
        now = time.monotonic()
        if now - last["progress"] >= 0.25:
            last["progress"] = now
            try:
                conn.hset(_progress_key(parent), key, min(frame, frames))
            except Exception:
                logger.debug("part progress not written")

    try:
        work.mkdir(parents=True, exist_ok=True)
        monitor = RenderMonitor(None, should_cancel, timeout=settings.RENDER_JOB_TIMEOUT)
        target = work / "segment.mp4"
        segment_encode(RenderPlan.from_json(plan), target, work, monitor, encoder, on_frame,
                       threads=settings.RENDER_PART_THREADS)
        segment_cache.cache_put(key, target)
        logger.info("job %s: part %s encoded (%s frames)", parent, index, frames)
        return "encoded"
    except RenderCanceled:
        logger.info("job %s: part %s stopped", parent, index)
        return "stopped"
    finally:
        part_progress_clear(parent, key)
        claim_release(key, owner)
        shutil.rmtree(work, ignore_errors=True)
