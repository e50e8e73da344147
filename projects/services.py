"""Every change to projects and media assets goes through here.

Slow work (probing, thumbnails, copying bytes to storage) happens outside transactions; the rows are
written in short transactions afterwards, and files are removed only once the row's removal committed.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import unicodedata
import uuid
from pathlib import Path, PurePath
from typing import Any

from django.core.cache import cache
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from projects.errors import AssetInUse, MediaTooLarge, MediaUnreadable, VersionConflict
from projects.models import MediaAsset, Project
from projects.previews import previews_make
from projects.probe import MediaProbe, probe_media
from projects.proxies import asset_proxy_enqueue, proxy_wanted
from projects.selectors import asset_usage
from projects.subtitles import MAX_BYTES as SUBTITLES_MAX_BYTES
from projects.subtitles import SubtitlesInvalid, subtitles_format, subtitles_parse
from projects.timeline import timeline_asset_ids, timeline_empty, timeline_validate
from projects.uploads import max_upload_bytes

logger = logging.getLogger(__name__)

PROBE_CACHE_TTL = 30 * 24 * 60 * 60
COPY_CHUNK = 1024 * 1024

_UNSET: Any = object()


# --- media assets -----------------------------------------------------------------------------------------
def _display_name(name: str | None, uploaded_file) -> str:
    """A name for people: the given one, else the uploaded file's base name, without control characters."""
    raw = name if name and name.strip() else PurePath(str(getattr(uploaded_file, "name", "") or "")).name
    cleaned = "".join(ch for ch in raw if unicodedata.category(ch)[0] != "C").strip()
    return (cleaned or "Untitled")[:255]


def _local_source(uploaded_file, workdir: Path) -> tuple[Path, str, int]:
    """A local path to the upload's bytes, their sha256 and size, reading the upload once, in chunks.

    Django's TemporaryUploadedFile (and ours, already hashed while it arrived) is used in place; anything
    else (in-memory uploads, plain File objects) is copied to `workdir` while hashing.
    """
    limit = max_upload_bytes()
    if hasattr(uploaded_file, "temporary_file_path"):
        path = Path(uploaded_file.temporary_file_path())
        size = path.stat().st_size
        if size > limit:
            raise MediaTooLarge(limit // (1024 * 1024))
        digest = getattr(uploaded_file, "sha256", None)
        if not digest:
            hasher = hashlib.sha256()
            with open(path, "rb") as handle:
                while chunk := handle.read(COPY_CHUNK):
                    hasher.update(chunk)
            digest = hasher.hexdigest()
        return path, digest, size

    path = workdir / "upload"
    hasher, size = hashlib.sha256(), 0
    if hasattr(uploaded_file, "seek"):
        uploaded_file.seek(0)
    with open(path, "wb") as out:
        for chunk in uploaded_file.chunks(COPY_CHUNK):
            size += len(chunk)
            if size > limit:
                raise MediaTooLarge(limit // (1024 * 1024))
            hasher.update(chunk)
            out.write(chunk)
    return path, hasher.hexdigest(), size


def _probe_cache_key(sha256: str) -> str:
    return f"media-probe:v1:{sha256}"


def _probe_by_content(path: Path, sha256: str) -> MediaProbe:
    """ffprobe's findings for these bytes: from an earlier upload of the same content if there is one."""
    for known in MediaAsset.objects.filter(sha256=sha256).values_list("probe", flat=True)[:3]:
        if known:
            return MediaProbe.from_dict(known)
    cached = cache.get(_probe_cache_key(sha256))
    if cached:
        return MediaProbe.from_dict(cached)
    probe = probe_media(path)
    cache.set(_probe_cache_key(sha256), probe.as_dict(), PROBE_CACHE_TTL)
    return probe


def asset_create(*, owner, uploaded_file, name: str | None = None) -> MediaAsset:
    """Probe an upload, make its previews, store it under a generated name and record it.

    Raises MediaUnreadable (400) or MediaTooLarge (413); a refused upload leaves no file in storage and
    no row. `uploaded_file` is any Django File (an UploadedFile from a request, or File(open(...))).
    """
    display_name = _display_name(name, uploaded_file)
    with tempfile.TemporaryDirectory(prefix="cutline-asset-") as tmp:
        workdir = Path(tmp)
        source, sha256, size = _local_source(uploaded_file, workdir)
        if size == 0:
            raise MediaUnreadable("The file is empty.")
        with open(source, "rb") as handle:
            subtitles_kind = subtitles_format(str(getattr(uploaded_file, "name", "") or ""), handle.read(64))
        if subtitles_kind is not None:
            return _asset_create_subtitles(owner=owner, source=source, kind=subtitles_kind, name=display_name,
                                           sha256=sha256, size=size)
        probe = _probe_by_content(source, sha256)
        previews = previews_make(source, probe, workdir)

        asset = MediaAsset(
            owner=owner, name=display_name, kind=probe.kind, container=probe.container, duration=probe.duration,
            width=probe.width, height=probe.height, fps=probe.fps, has_audio=probe.has_audio,
            video_codec=probe.video_codec, audio_codec=probe.audio_codec, size_bytes=size, sha256=sha256,
            filmstrip_frames=previews.filmstrip_frames, probe=probe.as_dict(),
            proxy_status=MediaAsset.ProxyStatus.PREPARING if proxy_wanted(probe.kind) else MediaAsset.ProxyStatus.NONE,
        )
        stored: list[str] = []
        try:
            # Storage streams from the open file in chunks; the stored name comes from asset_upload_to,
            # with the suffix of what the probe found, never the uploaded name.
            with open(source, "rb") as handle:
                asset.file.save(f"media{probe.extension}", File(handle), save=False)
            stored.append(asset.file.name)
            with open(previews.thumbnail, "rb") as handle:
                asset.thumbnail.save(previews.thumbnail.name, File(handle), save=False)
            stored.append(asset.thumbnail.name)
            if previews.filmstrip is not None:
                with open(previews.filmstrip, "rb") as handle:
                    asset.filmstrip.save(previews.filmstrip.name, File(handle), save=False)
                stored.append(asset.filmstrip.name)
            with transaction.atomic():
                asset.save(force_insert=True)
                if asset.proxy_status == MediaAsset.ProxyStatus.PREPARING:
                    transaction.on_commit(lambda: asset_proxy_enqueue(asset_id=asset.id))
        except BaseException:
            _storage_delete(stored)
            raise
    logger.info("asset %s stored for user %s: %s %s, %.3f s", asset.id, owner.pk, asset.kind, asset.container,
                asset.duration or 0)
    return asset


def _asset_create_subtitles(*, owner, source: Path, kind: str, name: str, sha256: str, size: int) -> MediaAsset:
    """A `.srt`/`.vtt` upload: parsed whole (a broken one is refused naming its line), stored as uploaded."""
    if size > SUBTITLES_MAX_BYTES:
        raise MediaUnreadable(f"Subtitles files are at most {SUBTITLES_MAX_BYTES // (1024 * 1024)} MB.")
    try:
        cues = subtitles_parse(source.read_bytes(), kind)
    except SubtitlesInvalid as exc:
        where = f"Line {exc.line}: " if exc.line else ""
        raise MediaUnreadable(f"These subtitles cannot be read. {where}{exc.message}.") from None
    asset = MediaAsset(
        owner=owner, name=name, kind=MediaAsset.Kind.SUBTITLES, container=kind, duration=max(c.end for c in cues),
        size_bytes=size, sha256=sha256, probe={"kind": "subtitles", "container": kind, "cues": len(cues)},
    )
    with open(source, "rb") as handle:
        asset.file.save(f"subtitles.{kind}", File(handle), save=False)
    try:
        with transaction.atomic():
            asset.save(force_insert=True)
    except BaseException:
        _storage_delete([asset.file.name])
        raise
    logger.info("asset %s stored for user %s: %s subtitles, %d cues", asset.id, owner.pk, kind, len(cues))
    return asset


def asset_create_from_path(*, owner, path: Path, name: str | None = None) -> MediaAsset:
    """`asset_create` for a file on this machine (the demo seed, tests, scripts)."""
    with open(path, "rb") as handle:
        return asset_create(owner=owner, uploaded_file=File(handle, name=Path(path).name), name=name)


def _storage_delete(names: list[str]) -> None:
    for stored_name in names:
        if not stored_name:
            continue
        try:
            default_storage.delete(stored_name)
        except OSError:
            logger.exception("could not delete stored file %s", stored_name)


def asset_delete(*, asset: MediaAsset) -> None:
    """Delete an asset no timeline uses (AssetInUse otherwise), and its files once that has committed."""
    with transaction.atomic():
        # The lock orders this against project_update, which locks the assets a timeline names:
        # either the save sees the asset gone, or this sees the timeline that uses it.
        locked = MediaAsset.objects.select_for_update().filter(pk=asset.pk).first()
        if locked is None:
            return
        projects, renders = asset_usage(asset=locked)
        if projects or renders:
            raise AssetInUse(asset_name=locked.name, renders=renders,
                             projects=[{"id": str(p.id), "name": p.name} for p in projects])
        names = [locked.file.name, locked.thumbnail.name, locked.filmstrip.name, locked.proxy.name]
        locked.delete()
        transaction.on_commit(lambda: _storage_delete(names))


# --- projects ---------------------------------------------------------------------------------------------
def _lock_assets(*, owner, document: Any) -> None:
    ids = []
    for raw in timeline_asset_ids(document):
        try:
            ids.append(str(uuid.UUID(raw)))
        except ValueError:
            continue
    if ids:
        list(MediaAsset.objects.select_for_update().filter(owner=owner, id__in=ids).values_list("id", flat=True))


@transaction.atomic
def project_create(*, owner, name: str, description: str = "", timeline: Any = None) -> Project:
    """A new project; without a timeline it gets the empty one (1280×720 @ 30)."""
    if timeline is None:
        document = timeline_empty()
    else:
        _lock_assets(owner=owner, document=timeline)
        document = timeline_validate(timeline, owner=owner)
    return Project.objects.create(owner=owner, name=name, description=description, timeline=document)


@transaction.atomic
def project_update(
    *,
    project: Project,
    name: str = _UNSET,
    description: str = _UNSET,
    timeline: Any = _UNSET,
    expected_version: int | None = None,
) -> Project:
    """Change a project and bump its version, only if it is still at `expected_version` (when given).

    A conditional UPDATE, not read-modify-write: of two saves based on the same version exactly one
    wins, the other gets VersionConflict with the current version.
    """
    if expected_version is not None:
        # A save based on an old version is a conflict whatever else is wrong with it: say that first.
        current = Project.objects.filter(pk=project.pk).values_list("version", flat=True).first()
        if current is not None and current != expected_version:
            raise VersionConflict(current_version=current, sent_version=expected_version)
    changes: dict[str, Any] = {}
    if name is not _UNSET:
        changes["name"] = name
    if description is not _UNSET:
        changes["description"] = description
    if timeline is not _UNSET:
        _lock_assets(owner=project.owner, document=timeline)
        changes["timeline"] = timeline_validate(timeline, owner=project.owner)

    rows = Project.objects.filter(pk=project.pk)
    if expected_version is not None:
        rows = rows.filter(version=expected_version)
    if changes:
        updated = rows.update(**changes, version=F("version") + 1, updated_at=timezone.now())
    else:
        updated = rows.count()
    if not updated:
        current = Project.objects.filter(pk=project.pk).values_list("version", flat=True).first()
        if current is None:
            raise Project.DoesNotExist("the project was deleted")
        raise VersionConflict(current_version=current, sent_version=expected_version)
    project.refresh_from_db()
    return project


@transaction.atomic
def project_delete(*, project: Project) -> None:
    project.delete()


@transaction.atomic
def project_duplicate(*, project: Project, name: str | None = None) -> Project:
    """A copy of `project` for its owner, at version 1, named "<name> (copy)" unless a name is given."""
    copy_name = (name or f"{project.name} (copy)")[:200]
    _lock_assets(owner=project.owner, document=project.timeline)
    return Project.objects.create(owner=project.owner, name=copy_name, description=project.description,
                                  timeline=timeline_validate(project.timeline, owner=project.owner))
