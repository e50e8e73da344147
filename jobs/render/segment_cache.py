"""Encoded timeline segments kept in `default_storage`, by a hash of everything that went into them.

Every worker shares the storage (local `MEDIA_ROOT` or S3), so a segment one worker encoded is a hit for
every other. The total size is bounded by `RENDER_SEGMENT_CACHE_MB`: a Redis sorted set (shared like the
storage) remembers when each entry was last used, and the least recently used go first. When Redis does not
answer, the cache still serves and stores; eviction waits for the next store that can reach it.

`cache_namespace(name)` switches, for the block it wraps, to a separate cache (its own folder beside
`render-cache/segments`, its own Redis index and size bound): bench_render runs in one so that clearing its
cache between measured renders leaves the deployment's cache alone. Parts of a render carry the namespace to
the workers that encode them (jobs.services.parts).
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage

from config.storage import storage_fetch, storage_local_path

logger = logging.getLogger(__name__)

PREFIX = "render-cache/segments"
_REDIS_PREFIX = "cutline:segment-cache"
_NAMESPACE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_namespace: contextvars.ContextVar[str] = contextvars.ContextVar("segment_cache_namespace", default="")


@contextmanager
def cache_namespace(name: str) -> Iterator[None]:
    """Within this block every cache operation of this thread works on the separate cache `name` ("" is the
    deployment's own cache). Names are lower-case letters, digits and dashes. A context variable: a thread
    started inside the block does not inherit it (the renderer uses the cache from the render's thread only)."""
    if name and not _NAMESPACE.fullmatch(name):
        raise ValueError(f"segment cache namespace {name!r}: use lower-case letters, digits and dashes")
    token = _namespace.set(name)
    try:
        yield
    finally:
        _namespace.reset(token)


def cache_namespace_current() -> str:
    return _namespace.get()


def _prefix() -> str:
    namespace = _namespace.get()
    return f"{PREFIX}-{namespace}" if namespace else PREFIX


def namespaced_key(base: str, name: str) -> str:
    """The Redis key `base:name` of the current namespace (`base:<namespace>:name` inside one)."""
    namespace = _namespace.get()
    return f"{base}:{namespace}:{name}" if namespace else f"{base}:{name}"


def _lru_key() -> str:
    return namespaced_key(_REDIS_PREFIX, "used")


def _size_key() -> str:
    return namespaced_key(_REDIS_PREFIX, "size")


def _name(key: str) -> str:
    return f"{_prefix()}/{key[:2]}/{key}.mp4"


def _redis():
    import django_rq

    return django_rq.get_connection("render")


def _touch(key: str, size: int | None = None) -> None:
    try:
        conn = _redis()
        pipe = conn.pipeline()
        pipe.zadd(_lru_key(), {key: time.time()})
        if size is not None:
            pipe.hset(_size_key(), key, size)
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
        lru_key, size_key = _lru_key(), _size_key()
        sizes = {k.decode(): int(v) for k, v in conn.hgetall(size_key).items()}
        total = sum(sizes.values())
        if total <= limit:
            return 0
        removed = 0
        for raw in conn.zrange(lru_key, 0, -1):
            if total <= limit:
                break
            key = raw.decode()
            default_storage.delete(_name(key))
            conn.zrem(lru_key, key)
            total -= sizes.pop(key, 0)
            conn.hdel(size_key, key)
            removed += 1
        return removed
    except Exception:
        logger.warning("segment cache: eviction skipped", exc_info=True)
        return 0


def cache_clear() -> None:
    """Forget every cached segment of the current namespace (tests and the bench start cold with this): the
    files, and the index. A namespace's emptied folders go too, on local storage (object storage has none)."""
    prefix = _prefix()
    try:
        folders, _ = default_storage.listdir(prefix)
    except (FileNotFoundError, NotADirectoryError):
        folders = []
    for folder in folders:
        _, files = default_storage.listdir(f"{prefix}/{folder}")
        for name in files:
            default_storage.delete(f"{prefix}/{folder}/{name}")
    try:
        _redis().delete(_lru_key(), _size_key())
    except Exception:
        logger.warning("segment cache: its index could not be cleared", exc_info=True)
    if _namespace.get():
        _remove_empty_folders(prefix, folders)


def _remove_empty_folders(prefix: str, folders: list[str]) -> None:
    # Only a namespace's: the deployment's cache folders stay, since removing one could race a worker's
    # store into it (the storage creates the folder, then the file).
    root = storage_local_path(default_storage, prefix)
    if root is None:
        return
    for path in [*(root / folder for folder in folders), root]:
        try:
            os.rmdir(path)
        except OSError:
            logger.debug("segment cache: %s not removed (not empty, or gone)", path)
