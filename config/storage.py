"""Where media lives: the local disk by default, S3-compatible object storage when the environment says so.

Every stored file (uploads, thumbnails, filmstrips, results, posters) goes through Django's
`default_storage`; this module chooses its backend from the environment and gives the few operations
that must not go through `Storage.open()`: django-storages' `S3File` downloads the whole object into a
spooled file on first read, which for a video is exactly what a web process must not do.

Environment (read by config/settings.py through `storage_backend_from_env`):

- ``STORAGE_URL``: empty or ``file://`` → local files under ``MEDIA_ROOT``;
  ``s3://BUCKET[/PREFIX]?endpoint_url=http://host:9000&region=eu-west-1&addressing_style=path``
  → S3-compatible storage. Credentials come from ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``
  (or boto3's other usual sources), never from the URL.
- The django-storages names work too: ``AWS_STORAGE_BUCKET_NAME`` alone selects S3, with
  ``AWS_S3_ENDPOINT_URL``, ``AWS_S3_REGION_NAME``, ``AWS_LOCATION``, ``AWS_S3_ADDRESSING_STYLE``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from django.core.exceptions import ImproperlyConfigured

from config.env import env_str

S3_BACKEND = "storages.backends.s3.S3Storage"
FILE_BACKEND = "django.core.files.storage.FileSystemStorage"
# S3File spools to disk past this size instead of memory (django-storages' default 0 means "never").
S3_SPOOL_BYTES = 2 * 1024 * 1024
_S3_QUERY_OPTIONS = {"endpoint_url": "endpoint_url", "region": "region_name", "region_name": "region_name",
                     "addressing_style": "addressing_style", "signature_version": "signature_version"}


def storage_backend_from_env() -> dict[str, Any]:
    """The `STORAGES["default"]` entry the environment asks for (ImproperlyConfigured on a bad URL)."""
    url = env_str("STORAGE_URL")
    if url:
        parsed = urlparse(url)
        if parsed.scheme == "file":
            if parsed.netloc or parsed.path not in ("", "/"):
                raise ImproperlyConfigured("STORAGE_URL=file:// takes no path: set MEDIA_ROOT for the folder.")
            return {"BACKEND": FILE_BACKEND}
        if parsed.scheme != "s3":
            raise ImproperlyConfigured(f"STORAGE_URL must start with s3:// or file://, got {parsed.scheme!r}.")
        if parsed.username or parsed.password:
            raise ImproperlyConfigured("STORAGE_URL must not carry credentials: use AWS_ACCESS_KEY_ID and "
                                       "AWS_SECRET_ACCESS_KEY.")
        if not parsed.hostname:
            raise ImproperlyConfigured("STORAGE_URL needs a bucket: s3://BUCKET[/PREFIX].")
        options: dict[str, Any] = {"bucket_name": parsed.netloc, "location": parsed.path.strip("/")}
        for key, values in parse_qs(parsed.query).items():
            if key not in _S3_QUERY_OPTIONS:
                raise ImproperlyConfigured(f"STORAGE_URL: unknown option {key!r} (known: "
                                           f"{', '.join(sorted(_S3_QUERY_OPTIONS))}).")
            options[_S3_QUERY_OPTIONS[key]] = values[-1]
        return {"BACKEND": S3_BACKEND, "OPTIONS": _s3_defaults(options)}
    bucket = env_str("AWS_STORAGE_BUCKET_NAME")
    if bucket:
        options = {"bucket_name": bucket, "location": env_str("AWS_LOCATION").strip("/")}
        for env_name, option in (("AWS_S3_ENDPOINT_URL", "endpoint_url"), ("AWS_S3_REGION_NAME", "region_name"),
                                 ("AWS_S3_ADDRESSING_STYLE", "addressing_style")):
            if env_str(env_name):
                options[option] = env_str(env_name)
        return {"BACKEND": S3_BACKEND, "OPTIONS": _s3_defaults(options)}
    return {"BACKEND": FILE_BACKEND}


def _s3_defaults(options: dict[str, Any]) -> dict[str, Any]:
    return {
        # Names are generated (uuid) and never rewritten; a clash must not silently replace a file.
        "file_overwrite": False,
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": 300,
        "max_memory_size": S3_SPOOL_BYTES,
        **options,
    }


def storage_is_s3(storage) -> bool:
    return hasattr(storage, "bucket") and hasattr(storage, "_normalize_name")


def storage_local_path(storage, name: str) -> Path | None:
    """The file's path on this machine when the storage is a local disk, else None."""
    try:
        return Path(storage.path(name))
    except NotImplementedError:
        return None


def _s3_object(storage, name: str):
    return storage.bucket.Object(storage._normalize_name(name))


def storage_read_range(storage, name: str, start: int, length: int, chunk_size: int) -> Iterator[bytes]:
    """`length` bytes of a stored file from `start`, in chunks, without reading the rest.

    S3: one ranged GET streamed off the socket (the caller's pace is the download's pace).
    Anything else: open, seek, read.
    """
    if length <= 0:
        return
    if storage_is_s3(storage):
        body = _s3_object(storage, name).get(Range=f"bytes={start}-{start + length - 1}")["Body"]
        try:
            yield from body.iter_chunks(chunk_size)
        finally:
            body.close()
        return
    with storage.open(name, "rb") as handle:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(chunk_size, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk


def storage_fetch(storage, name: str, destination: Path) -> int:
    """Copy a stored file to `destination` on this machine, streaming; returns its size.

    Raises FileNotFoundError when the storage has no such file.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".part")
    try:
        if storage_is_s3(storage):
            from botocore.exceptions import ClientError

            try:
                _s3_object(storage, name).download_file(str(partial))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                    raise FileNotFoundError(name) from None
                raise OSError(f"storage refused the download: {exc.response.get('Error', {}).get('Code')}") from None
        else:
            with storage.open(name, "rb") as src, open(partial, "wb") as dst:
                shutil.copyfileobj(src, dst, 1024 * 1024)
        partial.rename(destination)
    finally:
        partial.unlink(missing_ok=True)
    return destination.stat().st_size


def storage_url_for_download(storage, name: str, *, filename: str, as_attachment: bool,
                             content_type: str, expire: int) -> str | None:
    """A presigned GET URL of the object, valid `expire` seconds, whose response carries our download
    name and type (None for local files). The storage answers Range on it itself."""
    if not storage_is_s3(storage):
        return None
    from django.utils.http import content_disposition_header

    return storage.url(name, parameters={
        "ResponseContentDisposition": content_disposition_header(as_attachment, filename),
        "ResponseContentType": content_type,
    }, expire=expire)
