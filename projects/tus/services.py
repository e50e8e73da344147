"""Resumable uploads (tus 1.0): create, append a chunk, terminate, and assemble the finished file into an asset.

Each accepted chunk is spooled to a temporary file on this machine (never held in memory), checked,
and stored as one part in `default_storage`, so the next chunk can go to any web process. The row's
offset moves only under a row lock and only if nobody moved it first. The chunk that completes the
upload assembles the parts into a MediaAsset through `projects.services.asset_create` (probe,
previews, storage) and removes the parts.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from config.storage import storage_read_range
from projects.errors import MediaTooLarge
from projects.tus.errors import UploadChecksumMismatch, UploadChunkTooLarge, UploadHeaderInvalid, UploadOffsetConflict
from projects.tus.models import ResumableUpload
from projects.uploads import max_upload_bytes

logger = logging.getLogger(__name__)

CHECKSUM_ALGORITHMS = ("sha1", "sha256", "md5")
READ_BLOCK = 256 * 1024


def max_chunk_bytes() -> int:
    return settings.UPLOAD_MAX_CHUNK_MB * 1024 * 1024


def upload_create(*, owner, length: int, metadata: dict[str, str]) -> ResumableUpload:
    """A new, empty upload of `length` bytes (MediaTooLarge past the upload limit)."""
    if length > max_upload_bytes():
        raise MediaTooLarge(settings.MEDIA_MAX_UPLOAD_MB)
    return ResumableUpload.objects.create(owner=owner, length=length, metadata=metadata)


def _spool(stream: IO[bytes], limit: int, algorithm: str | None) -> tuple[IO[bytes], int, bytes | None]:
    """Copy the body to a temporary file in blocks; (file at 0, size, digest of the requested algorithm)."""
    spooled = tempfile.TemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR)
    hasher = hashlib.new(algorithm) if algorithm else None
    size = 0
    try:
        while block := stream.read(READ_BLOCK):
            size += len(block)
            if size > limit:
                raise UploadChunkTooLarge(settings.UPLOAD_MAX_CHUNK_MB)
            if hasher:
                hasher.update(block)
            spooled.write(block)
    except BaseException:
        spooled.close()
        raise
    spooled.seek(0)
    return spooled, size, hasher.digest() if hasher else None


def upload_append(*, upload: ResumableUpload, offset: int, stream: IO[bytes],
                  checksum: tuple[str, bytes] | None = None) -> ResumableUpload:
    """Store the chunk at `offset`; the chunk that completes the upload makes the asset.

    UploadOffsetConflict if the upload is not at `offset` (before or after receiving the chunk),
    UploadChecksumMismatch if `checksum` (algorithm, digest) does not match the bytes.
    """
    if upload.offset != offset:
        raise UploadOffsetConflict(sent=offset, current=upload.offset)
    limit = min(max_chunk_bytes(), upload.length - offset)
    spooled, size, digest = _spool(stream, limit, checksum[0] if checksum else None)
    with spooled:
        if checksum and digest != checksum[1]:
            raise UploadChecksumMismatch
        if size == 0:
            return upload
        stored = default_storage.save(f"{upload.parts_prefix}{offset:015d}", File(spooled))
    with transaction.atomic():
        locked = ResumableUpload.objects.select_for_update().get(pk=upload.pk)
        if locked.offset != offset:
            transaction.on_commit(lambda: _delete([stored]))
            raise UploadOffsetConflict(sent=offset, current=locked.offset)
        locked.offset = offset + size
        locked.parts = [*locked.parts, [offset, size, stored]]
        locked.save(update_fields=["offset", "parts", "updated_at"])
    if locked.complete:
        _assemble(locked)
    return locked


def _assemble(upload: ResumableUpload) -> None:
    """Join the parts (streamed, in order) into one local file and make the asset from it."""
    from projects.services import asset_create

    filename = str(upload.metadata.get("filename") or "upload")
    try:
        with tempfile.NamedTemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR, suffix=Path(filename).suffix[:8]) as joined:
            for _, size, name in upload.parts:
                for chunk in storage_read_range(default_storage, name, 0, size, 1024 * 1024):
                    joined.write(chunk)
            joined.flush()
            joined.seek(0)
            asset = asset_create(owner=upload.owner, uploaded_file=File(joined, name=filename),
                                 name=upload.metadata.get("name") or None)
    except BaseException:
        # A refused file (unreadable, too large) ends the upload: its parts go, the client gets the error.
        upload_terminate(upload=upload)
        raise
    upload.asset = asset
    upload.save(update_fields=["asset", "updated_at"])
    _delete([name for _, _, name in upload.parts])
    logger.info("upload %s assembled into asset %s (%s bytes)", upload.id, asset.id, upload.length)


def _delete(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except Exception as exc:  # a disk's OSError or object storage's botocore errors
            logger.warning("could not delete upload part %s: %s", name, exc)


def upload_terminate(*, upload: ResumableUpload) -> None:
    """Forget an upload and remove the parts it stored (tus termination)."""
    names = [name for _, _, name in upload.parts]
    with transaction.atomic():
        ResumableUpload.objects.filter(pk=upload.pk).delete()
        transaction.on_commit(lambda: _delete(names))


def uploads_expire(*, now=None) -> int:
    """Terminate unfinished uploads untouched for `UPLOAD_EXPIRY_HOURS`; returns how many went."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.UPLOAD_EXPIRY_HOURS)
    stale = list(ResumableUpload.objects.filter(updated_at__lt=cutoff, asset__isnull=True))
    for upload in stale:
        upload_terminate(upload=upload)
    return len(stale)


# --- header parsing (tus 1.0) ---------------------------------------------------------------------------
def parse_metadata(header: str) -> dict[str, str]:
    """`Upload-Metadata`: comma-separated `key base64value` pairs (value optional)."""
    metadata: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in (header or "").split(","))):
        key, _, encoded = item.partition(" ")
        if not key or len(key) > 64 or len(metadata) >= 32:
            raise UploadHeaderInvalid("Upload-Metadata", "Upload-Metadata has an empty, too long or extra key.")
        try:
            value = base64.b64decode(encoded, validate=True).decode() if encoded else ""
        except (ValueError, UnicodeDecodeError):
            raise UploadHeaderInvalid("Upload-Metadata", f"Upload-Metadata: the value of {key!r} is not base64 "
                                                         "of UTF-8 text.") from None
        metadata[key] = value[:1024]
    return metadata


def parse_checksum(header: str | None) -> tuple[str, bytes] | None:
    if not header:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise UploadHeaderInvalid("Upload-Checksum", f"Upload-Checksum: unsupported algorithm {algorithm!r} "
                                                     f"(supported: {', '.join(CHECKSUM_ALGORITHMS)}).")
    try:
        return algorithm, base64.b64decode(encoded, validate=True)
    except ValueError:
        raise UploadHeaderInvalid("Upload-Checksum", "Upload-Checksum: the digest is not base64.") from None


def parse_non_negative(header: str, value: str | None) -> int:
    if value is None or not value.strip().isdigit():
        raise UploadHeaderInvalid(header, f"{header} must be a whole number of bytes.")
    return int(value.strip())


def upload_state(upload: ResumableUpload) -> dict[str, Any]:
    return {"id": str(upload.id), "length": upload.length, "offset": upload.offset,
            "asset_id": str(upload.asset_id) if upload.asset_id else None}
