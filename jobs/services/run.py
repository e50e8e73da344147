"""Running one render job on a worker: claim it, fetch its media, render, store the result, record the outcome.

The RQ task (jobs.tasks.render) is one call to `job_render`; everything it does is here.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from rq.timeouts import JobTimeoutException

from config.exceptions import CutlineError
from jobs.captions import captions_store
from jobs.errors import RenderFailedInQueue, StorageError
from jobs.models import RenderJob
from jobs.render import AssetSource, render_timeline
from jobs.render.errors import MediaMissing, RenderCanceled
from jobs.services.parts import parts_for
from jobs.services.progress import ProgressReporter
from jobs.services.transitions import StoredResult, job_claim, job_fail, job_mark_canceled, job_requeue, job_succeed
from projects.models import MediaAsset
from projects.timeline import timeline_asset_ids

logger = logging.getLogger("jobs.services")


def work_dir_for(job_id, attempt: int) -> Path:
    """This attempt's scratch directory; its name starts with the job id (see jobs.services.recovery.work_dirs_tidy)."""
    return Path(settings.RENDER_WORK_DIR) / f"{job_id}.{attempt}"


def job_render(*, job_id, worker_name: str = "") -> RenderJob | None:
    """Render job `job_id` if it is still PENDING and record the outcome; None when it was not ours to run.

    Returns the job as it ended. When it ended FAILED, raises RenderFailedInQueue after recording it, so
    RQ's registry shows the failure too.
    """
    job = job_claim(job_id=job_id, worker_name=worker_name)
    if job is None:
        logger.info("job %s: not pending any more; nothing to do", job_id)
        return None
    logger.info("job %s: rendering (attempt %s)", job_id, job.attempt)
    attempt = job.attempt
    _render_claimed(job)
    job.refresh_from_db()
    if job.status == RenderJob.Status.FAILED and job.attempt == attempt:
        raise RenderFailedInQueue(f"render {job.id} failed with {job.error_code}: {job.error_message}")
    return job


def _render_claimed(job: RenderJob) -> None:
    attempt = job.attempt
    work_dir = work_dir_for(job.id, attempt)
    stored: StoredResult | None = None
    try:
        work_dir.mkdir(parents=True, exist_ok=True)
        reporter = ProgressReporter(job.id, attempt=attempt)
        with reporter.heartbeating():
            assets = _asset_sources(job, work_dir)
            with parts_for(job.id):  # segments may be fanned out to idle workers (jobs.services.parts)
                result = render_timeline(
                    job.timeline, assets, job.preset, work_dir / "render.mp4",
                    on_progress=reporter, should_cancel=reporter.should_cancel,
                )
            if reporter.should_cancel():
                raise RenderCanceled("Canceled")
            stored = _store_result(job, result)
        if job_succeed(job_id=job.id, attempt=attempt, result=stored) is None:
            # Canceled or taken over while the files were being stored: they belong to nobody.
            logger.info("job %s: finished, but it is no longer this attempt's; discarding the result", job.id)
            _delete_stored(stored)
        else:
            logger.info("job %s: succeeded (%s bytes)", job.id, stored.size_bytes)
    except RenderCanceled:
        job_mark_canceled(job_id=job.id, attempt=attempt)
        logger.info("job %s: canceled while running", job.id)
    except JobTimeoutException:
        minutes = settings.RENDER_JOB_TIMEOUT / 60
        job_fail(job_id=job.id, attempt=attempt, error_code="TIMEOUT",
                          error_message=f"The render took longer than the {minutes:g}-minute limit.")
    except StorageError as exc:
        job_requeue(job_id=job.id, attempt=attempt, error_code=exc.error_code, reason=exc.message)
    except CutlineError as exc:
        # The renderer's typed errors (MEDIA_MISSING, MEDIA_UNREADABLE, RENDER_FAILED, TIMEOUT): their
        # messages name the clip and never a path.
        job_fail(job_id=job.id, attempt=attempt, error_code=exc.error_code, error_message=exc.message)
    except Exception:
        logger.exception("job %s: the render crashed", job.id)
        job_fail(job_id=job.id, attempt=attempt, error_code="RENDER_FAILED",
                          error_message="The render failed unexpectedly. The operators have the details.")
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def _clips_using(timeline: dict[str, Any], asset_id: str) -> list[str]:
    return [
        f"clip {clip.get('id')} on track {track.get('id')}"
        for track in timeline.get("tracks", [])
        for clip in track.get("clips", [])
        if str(clip.get("asset_id")) == asset_id
    ]


def _asset_sources(job: RenderJob, work_dir: Path) -> dict[str, Any]:
    """AssetSource for every asset the frozen timeline uses; a deleted asset fails with MEDIA_MISSING."""
    wanted = timeline_asset_ids(job.timeline)
    rows = {str(a.id): a for a in MediaAsset.objects.filter(id__in=wanted, owner_id=job.owner_id)}
    sources: dict[str, Any] = {}
    for asset_id in sorted(wanted):
        asset = rows.get(asset_id)
        if asset is None or not asset.file:
            where = ", ".join(_clips_using(job.timeline, asset_id)) or "a clip"
            raise MediaMissing(f"{where}: the media file is missing (the asset was deleted).")
        sources[asset_id] = AssetSource(
            asset_id=asset_id, path=_local_path(asset, work_dir), kind=asset.kind, duration=asset.duration,
            width=asset.width, height=asset.height, fps=asset.fps, has_audio=asset.has_audio, name=asset.name,
            sha256=asset.sha256 or "",
        )
    return sources


def _local_path(asset, work_dir: Path) -> Path:
    """The asset's file on this machine: in place on local storage, else fetched (and cached) by content hash."""
    from jobs.input_cache import input_fetch

    local = work_dir / "inputs" / f"{asset.id}{Path(asset.file.name).suffix}"
    try:
        return input_fetch(name=asset.file.name, sha256=asset.sha256, suffix=Path(asset.file.name).suffix,
                           destination=local)
    except FileNotFoundError:
        # A missing file or object: the renderer reports MEDIA_MISSING for the clips that use it.
        return local
    except Exception as exc:  # a disk's OSError or object storage's botocore errors
        logger.warning("asset %s: could not fetch the input: %s", asset.id, exc)
        raise StorageError("The media could not be read from storage.") from None


def _store_result(job: RenderJob, result: Any) -> StoredResult:
    """Copy the result, its poster and caption sidecars to default_storage (outside any transaction)."""
    names: list[str] = []
    try:
        with open(result.path, "rb") as handle:
            job.result_file.save(Path(result.path).name, File(handle), save=False)  # render.<format's extension>
        names.append(job.result_file.name)
        poster_name = ""
        if result.poster_path and Path(result.poster_path).exists():
            with open(result.poster_path, "rb") as handle:
                job.poster.save("poster.jpg", File(handle), save=False)
            poster_name = job.poster.name
            names.append(poster_name)
        names.extend(captions_store(job, result))  # captions.vtt / captions.srt, when the timeline has captions
    except Exception as exc:  # a disk's OSError or object storage's botocore errors
        for name in names:
            _delete_name(name)
        logger.warning("job %s: could not store the result: %s", job.id, exc)
        raise StorageError("The finished video could not be stored.") from None
    return StoredResult(
        result_file=names[0], poster=poster_name, sha256=result.sha256,
        size_bytes=result.size_bytes, duration=result.duration, width=result.width, height=result.height,
        fps=result.fps, render_path=getattr(result, "render_path", "") or "",
    )


def _delete_name(name: str) -> None:
    try:
        default_storage.delete(name)
    except Exception as exc:  # a disk's OSError or object storage's botocore errors
        logger.warning("could not delete %s: %s", name, exc)


def _sidecars_of(result_name: str) -> list[str]:
    """The caption sidecars stored beside a result (jobs.captions), whether or not they exist."""
    folder = str(Path(result_name).parent) if result_name else ""
    return [f"{folder}/captions.vtt", f"{folder}/captions.srt"] if folder and folder != "." else []


def _delete_stored(stored: StoredResult) -> None:
    for name in (stored.result_file, stored.poster, *_sidecars_of(stored.result_file)):
        if name:
            _delete_name(name)
