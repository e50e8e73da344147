"""Batches: one template project rendered with many `merge` value sets at once (≤ RENDER_BATCH_MAX_ITEMS).

A batch is an honest exception to "one active render per project": its jobs carry a `batch_id` and
their place in it (`batch_index`), the one-active-job constraint only covers jobs outside batches, and
(batch_id, batch_index) is unique. Batches are made idempotent by the `Idempotency-Key` header rather
than by "return the active job". Every item is validated before any job is created: either the whole
batch is accepted or the answer lists each item's problems (`items.3.merge.name`).
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from config.exceptions import ErrorItem
from jobs.errors import QuotaExceeded
from jobs.merge import merge_key_for, timeline_merge_validate
from jobs.models import RenderJob
from jobs.render import preset_output
from jobs.services.queue import job_enqueue, queue_check
from jobs.services.transitions import record_first_event
from projects.timeline import TimelineInvalid

logger = logging.getLogger(__name__)


def render_batch_submit(*, project, user, preset: str, items: list[dict], webhook_endpoint=None,
                        ) -> tuple[uuid.UUID, list[RenderJob]]:
    """Validate every item's merge, then create and enqueue one job per item in one transaction."""
    timelines, problems, seen = [], [], set()
    for index, item in enumerate(items):
        try:
            timelines.append(timeline_merge_validate(project.timeline, item.get("merge") or {}, owner=user,
                                                     attr=f"items.{index}.merge"))
        except TimelineInvalid as exc:
            for problem in exc.errors:
                # A problem of the template itself is the same for every item: say it once.
                if (problem.attr, problem.detail) not in seen:
                    seen.add((problem.attr, problem.detail))
                    problems.append(problem)
    if problems:
        raise TimelineInvalid(problems)

    queue_check()
    batch_id = uuid.uuid4()
    jobs: list[RenderJob] = []
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        running = RenderJob.objects.active().filter(owner=user, batch_id__isnull=False).count()
        limit = settings.RENDER_MAX_ACTIVE_BATCH_JOBS_PER_USER
        if running + len(items) > limit:
            raise QuotaExceeded(
                f"This batch needs {len(items)} renders and you already have {running} batch renders waiting "
                f"or running (the limit is {limit}). Wait for some to finish or cancel them.",
                errors=[ErrorItem(detail=f"at most {max(0, limit - running)} more batch renders", attr="items",
                                  code="QUOTA_EXCEEDED")],
            )
        now = timezone.now()
        for index, (item, timeline) in enumerate(zip(items, timelines, strict=True)):
            width, height, fps = preset_output(preset, timeline)
            merge = item.get("merge") or {}
            job = RenderJob.objects.create(
                owner=user, project=project, timeline=timeline, preset=preset, output_width=width,
                output_height=height, output_fps=fps, message="Waiting for a worker", queued_at=now,
                merge=merge, merge_key=merge_key_for(merge), batch_id=batch_id, batch_index=index,
                webhook_endpoint=webhook_endpoint,
            )
            record_first_event(job)
            jobs.append(job)
        ids = [job.id for job in jobs]
        transaction.on_commit(lambda: [job_enqueue(job_id) for job_id in ids])
    logger.info("batch %s: %s jobs submitted for project %s (preset %s)", batch_id, len(jobs), project.pk, preset)
    return batch_id, jobs
