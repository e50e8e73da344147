"""Removing a project together with its renders: the running one stops, the files go after the commit.

The job rows cascade away with the project, so retention would never find their MP4s and posters again;
they are deleted here, once the deletion has committed (a rolled-back delete keeps its files).
"""

from __future__ import annotations

import logging

import redis
from django.core.files.storage import default_storage
from django.db import transaction
from rq.command import send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError

from jobs.captions import captions_names
from jobs.models import RenderJob
from jobs.services.queue import queue_connection, rq_job_discard
from projects.services import project_delete

logger = logging.getLogger("jobs.services")


def storage_delete_on_commit(names: list[str], *, why: str) -> None:
    """Delete stored files once the current transaction commits (never for a rolled-back change)."""
    names = [name for name in names if name]
    if not names:
        return

    def delete() -> None:
        for name in names:
            try:
                default_storage.delete(name)
            except OSError as exc:
                logger.warning("could not delete a stored file (%s): %s", why, exc)

    transaction.on_commit(delete)


def _stop_active(job_ids: list[str]) -> None:
    """After commit: take pending jobs off the queue and stop running ones (their rows are gone already,
    so a worker's next write or heartbeat finds nothing and it stops by itself too)."""
    for job_id in job_ids:
        rq_job_discard(job_id)
        try:
            send_stop_job_command(queue_connection(), job_id)
        except (NoSuchJobError, InvalidJobOperation):
            pass
        except (redis.RedisError, OSError) as exc:
            logger.warning("job %s: could not send the stop command: %s", job_id, exc)


@transaction.atomic
def project_delete_with_renders(*, project) -> None:
    """Delete a project, its render jobs (cascade) and their results, posters and caption sidecars (after commit)."""
    rows = list(RenderJob.objects.select_for_update().filter(project=project)
                .values_list("id", "owner_id", "status", "result_file", "poster"))
    active = [str(pk) for pk, _, status, _, _ in rows if status in RenderJob.ACTIVE_STATUSES]
    names = [name for _, _, _, result, poster in rows for name in (result, poster)]
    names += [name for pk, owner_id, _, _, _ in rows for name in captions_names(owner_id=owner_id, job_id=pk)]
    storage_delete_on_commit(names, why=f"project {project.pk} deleted")
    project_delete(project=project)
    if active:
        transaction.on_commit(lambda: _stop_active(active))
    logger.info("project %s: deleted with %s render(s), %s of them active", project.pk, len(rows), len(active))
