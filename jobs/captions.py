"""A render's caption sidecars (`captions.vtt`, `captions.srt`) in storage, beside its result.

They live at fixed names in the job's result folder, so no column is needed: a job has them when it has a
result and its frozen timeline has a captions track (the renderer always writes both files then).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.files.storage import default_storage

from jobs.models import RenderJob, job_result_to

logger = logging.getLogger(__name__)

KINDS = {"vtt": "text/vtt; charset=utf-8", "srt": "application/x-subrip; charset=utf-8"}


def captions_name(job: RenderJob, kind: str) -> str:
    return job_result_to(job, f"captions.{kind}")


def captions_names(*, owner_id: int, job_id) -> list[str]:
    """Where a job's sidecars would be (whether or not it has any), for clean-ups that only have ids."""
    return [job_result_to(RenderJob(id=job_id, owner_id=owner_id), f"captions.{kind}") for kind in KINDS]


def job_has_captions(job: RenderJob) -> bool:
    tracks = (job.timeline or {}).get("tracks") if isinstance(job.timeline, dict) else None
    return job.has_result and any(isinstance(t, dict) and t.get("kind") == "captions" for t in tracks or [])


def captions_url(job: RenderJob, kind: str = "vtt", *, has_captions: bool | None = None) -> str | None:
    """The sidecar's URL, or None. `has_captions`: whether the timeline has a captions track, for a
    caller that read the job without its timeline (realtime/snapshots.py)."""
    if has_captions is None:
        return f"/api/jobs/{job.id}/captions.{kind}" if job_has_captions(job) else None
    return f"/api/jobs/{job.id}/captions.{kind}" if job.has_result and has_captions else None


def captions_store(job: RenderJob, result: Any) -> list[str]:
    """Copy the sidecars the renderer wrote to storage; the stored names (for clean-up on failure)."""
    names = []
    for kind in KINDS:
        path = getattr(result, f"captions_{kind}", None)
        if not path or not Path(path).exists():
            continue
        name = captions_name(job, kind)
        default_storage.delete(name)  # a retried attempt writes the same name; never get a "_x7a" suffix
        with open(path, "rb") as handle:
            names.append(default_storage.save(name, File(handle)))
    return names


def captions_delete(job: RenderJob) -> None:
    for kind in KINDS:
        try:
            default_storage.delete(captions_name(job, kind))
        except OSError as exc:
            logger.warning("job %s: could not delete its %s captions: %s", job.id, kind, exc)
