"""A worker machine's copies of render inputs kept in object storage, by content hash, bounded in size.

A render needs its inputs as local files (ffmpeg seeks in them). With local storage the stored file
is used in place; with object storage it is downloaded once into this machine's cache, named by its
sha256, and hard-linked into the render's scratch directory, so evicting it from the cache never pulls
a file from under a running render. Least recently used entries go first once the cache passes
`RENDER_INPUT_CACHE_MB`.
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage

from config.storage import storage_fetch, storage_local_path

logger = logging.getLogger(__name__)

_HEX = re.compile(r"^[0-9a-f]{64}$")


def _cache_dir() -> Path:
    return Path(settings.RENDER_INPUT_CACHE_DIR)


def input_fetch(*, name: str, sha256: str, suffix: str, destination: Path) -> Path:
    """A local path holding stored file `name`: in place on local storage, else linked from the cache.

    Raises FileNotFoundError when storage has no such file.
    """
    local = storage_local_path(default_storage, name)
    if local is not None:
        if not local.is_file():
            raise FileNotFoundError(name)
        return local
    suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix or "") else ""
    destination.parent.mkdir(parents=True, exist_ok=True)
    if not _HEX.match(sha256 or "") or settings.RENDER_INPUT_CACHE_MB == 0:
        storage_fetch(default_storage, name, destination)
        return destination
    cached = _cache_dir() / f"{sha256}{suffix}"
    if cached.is_file():
        os.utime(cached)  # recently used
        logger.info("input %s: from this machine's cache", sha256[:12])
    else:
        cached.parent.mkdir(parents=True, exist_ok=True)
        # Two renders on one machine may fetch the same input at once: each into its own name, then an
        # atomic rename; the loser's copy is simply replaced.
        fresh = cached.with_name(f".{uuid.uuid4().hex}{suffix}")
        try:
            storage_fetch(default_storage, name, fresh)
            fresh.rename(cached)
        finally:
            fresh.unlink(missing_ok=True)
    try:
        os.link(cached, destination)
    except OSError:
        # Another file system (or the entry was evicted in between): fall back to a fresh download.
        storage_fetch(default_storage, name, destination)
    input_cache_trim()
    return destination


def input_cache_trim(*, limit_bytes: int | None = None) -> int:
    """Remove least recently used entries until the cache fits its limit; returns how many went."""
    limit = settings.RENDER_INPUT_CACHE_MB * 1024 * 1024 if limit_bytes is None else limit_bytes
    folder = _cache_dir()
    if not folder.is_dir():
        return 0
    entries = []
    for entry in folder.iterdir():
        try:
            stat = entry.stat()
        except FileNotFoundError:
            continue
        if entry.name.startswith("."):
            # A download in progress, or one a killed worker left: gone after an hour.
            if stat.st_mtime < time.time() - 3600:
                entry.unlink(missing_ok=True)
            continue
        entries.append((stat.st_mtime, stat.st_size, entry))
    total = sum(size for _, size, _ in entries)
    removed = 0
    for _, size, entry in sorted(entries, key=lambda item: item[0]):
        if total <= limit:
            break
        entry.unlink(missing_ok=True)
        total -= size
        removed += 1
    return removed
