"""Encoded timeline segments kept in `default_storage`, by a hash of everything that went into them.

Every worker shares the storage (local `MEDIA_ROOT` or S3), so a segment one worker encoded is a hit for
every other. The total size is bounded by `RENDER_SEGMENT_CACHE_MB`: a Redis sorted set (shared like the
storage) remembers when each entry was last used, and the least recently used go first. When Redis does not
answer, the cache still serves and stores; eviction waits for the next store that can reach it.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage

from config.storage import storage_fetch

logger = logging.getLogger(__name__)

PREFIX = "render-cache/segments"
_LRU_KEY = "cutline:segment-cache:used"
_SIZE_KEY = "cutline:segment-cache:size"


def _name(key: str) -> str:
    return f"{PREFIX}/{key[:2]}/{key}.mp4"


def _redis():
    import django_rq

    return django_rq.get_connection("render")


def _touch(key: str, size: int | None = None) -> None:
    try:
        conn = _redis()
        pipe = conn.pipeline()
        pipe.zadd(_LRU_KEY, {key: time.time()})
        if size is not None:
            pipe.hset(_SIZE_KEY, key, size)
        pipe.execute()
    except Exception:
        logger.warning("segment cache: could not record use of %s", key, exc_info=True)


def cache_enabled() -> bool:
    return settings.RENDER_SEGMENT_CACHE_MB > 0


def cache_has(key: str) -> bool:
    return cache_enabled() and default_storage.exists(_name(key))


def cache_get(key: str, destination: Path) -> bool:
    """Copy the cached segment `key` to `destination`; False on a miss."""
    if not cache_enabled():
        return False
    try:
        storage_fetch(default_storage, _name(key), destination)
    except FileNotFoundError:
        return False  # never stored, or evicted meanwhile
    _touch(key)
    return True


def cache_put(key: str, source: Path) -> None:
    """Store an encoded segment under `key`, then evict the least recently used past the size bound."""
    if not cache_enabled():
        return
    name = _name(key)
    if default_storage.exists(name):
        _touch(key)
        return
    size = source.stat().st_size
    with open(source, "rb") as handle:
        saved = default_storage.save(name, File(handle))
    if saved != name:  # another worker stored the same key meanwhile: keep theirs
        default_storage.delete(saved)
    _touch(key, size)
    cache_evict()


def cache_evict(limit_bytes: int | None = None) -> int:
    """Delete least recently used segments until the cache fits its bound; returns how many went."""
    limit = settings.RENDER_SEGMENT_CACHE_MB * 1024 * 1024 if limit_bytes is None else limit_bytes
    try:
        conn = _redis()
        sizes = {k.decode(): int(v) for k, v in conn.hgetall(_SIZE_KEY).items()}
        total = sum(sizes.values())
        if total <= limit:
            return 0
        removed = 0
        for raw in conn.zrange(_LRU_KEY, 0, -1):
            if total <= limit:
                break
            key = raw.decode()
            default_storage.delete(_name(key))
            conn.zrem(_LRU_KEY, key)
            total -= sizes.pop(key, 0)
            conn.hdel(_SIZE_KEY, key)
            removed += 1
        return removed
    except Exception:
        logger.warning("segment cache: eviction skipped", exc_info=True)
        return 0


def cache_clear() -> None:
    """Forget every cached segment (tests and the bench start cold with this): the files, and the index."""
    try:
        folders, _ = default_storage.listdir(PREFIX)
    except (FileNotFoundError, NotADirectoryError):
        folders = []
    for folder in folders:
        _, files = default_storage.listdir(f"{PREFIX}/{folder}")
        for name in files:
            default_storage.delete(f"{PREFIX}/{folder}/{name}")
    try:
        _redis().delete(_LRU_KEY, _SIZE_KEY)
    except Exception:
        logger.warning("segment cache: its index could not be cleared", exc_info=True)
