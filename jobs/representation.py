"""The job representation of CONTRACT.md §3: plain dicts, shared by the REST API, snapshots and the pages."""

from __future__ import annotations

from typing import Any

from config.wire import iso, job_events_url, job_thumbnail_url, job_ws_url, result_download_url
from jobs.captions import captions_url
from jobs.models import RenderJob
from jobs.render.formats import format_for_name


def _number(value: float | None) -> float | int | None:
    """30.0 → 30: whole numbers are written as the contract writes them."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def job_result(job: RenderJob) -> dict[str, Any] | None:
    if not job.has_result:
        return None
    fmt = format_for_name(job.result_file.name)
    return {
        "download_url": result_download_url(job.id),
        "checksum": f"sha256:{job.result_sha256}",
        "size_bytes": job.result_size_bytes,
        "duration": job.result_duration,
        "width": job.result_width,
        "height": job.result_height,
        "thumbnail_url": job_thumbnail_url(job.id) if job.poster else None,
        # Additions (output formats): what the file is, so players and downloads can follow it.
        "format": fmt.name,
        "format_label": fmt.label,
        "content_type": fmt.content_type,
        "extension": fmt.extension,
    }


def job_representation(job: RenderJob, *, has_captions: bool | None = None) -> dict[str, Any]:
    """The contract's job object, used by the REST API, snapshots and the pages alike.

    `has_captions` is given by callers that read the job without its (possibly large) timeline."""
    return {
        "id": str(job.id),
        "project_id": str(job.project_id),
        "status": job.status,
        "phase": job.phase,
        "progress": round(job.progress, 2),
        "message": job.message,
        "preset": job.preset,
        "output": {"width": job.output_width, "height": job.output_height, "fps": _number(job.output_fps)},
        "attempt": job.attempt,
        "error_code": job.error_code or None,
        "error_message": job.error_message or None,
        "result": job_result(job),
        "created_at": iso(job.created_at),
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
        "updated_at": iso(job.updated_at),
        "events_url": job_events_url(job.id),
        "ws_url": job_ws_url(job.id),
        # Additions beyond v1 (add, never rename):
        "cancel_requested": job.cancel_requested,
        "retry_of": str(job.retry_of_id) if job.retry_of_id else None,
        "retryable": job.retryable,
        "captions_url": captions_url(job, has_captions=has_captions),
        "captions_srt_url": captions_url(job, "srt", has_captions=has_captions),
        "merge": job.merge or None,
        "batch_id": str(job.batch_id) if job.batch_id else None,
        "batch_index": job.batch_index,
    }


def published_representation(job: RenderJob | None) -> dict[str, Any]:
    """`GET /api/projects/{id}/published`: the newest succeeded render whose result is still kept."""
    if job is None:
        return {"published": False}
    return {
        "published": True,
        "download_url": result_download_url(job.id),
        "thumbnail_url": job_thumbnail_url(job.id) if job.poster else None,
        "duration": job.result_duration,
        "published_at": iso(job.finished_at),
        "job_id": str(job.id),
        "captions_url": captions_url(job),
        "captions_srt_url": captions_url(job, "srt"),
    }
