"""Proxy media for the editor's preview: queued after an upload, made by a worker on the `default` queue.

The asset shows "preparing preview" (`proxy_status = preparing`) until the proxy is stored; if it cannot
be made the preview uses the original file. Renders never read proxies.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import django_rq
import redis
from django.core.files import File
from django.core.files.storage import default_storage

from projects.models import MediaAsset, ProxyStatus
from projects.previews import proxy_make
from projects.probe import MediaProbe

logger = logging.getLogger(__name__)

PROXY_TASK = "projects.tasks.asset_proxy_make"


def proxy_wanted(kind: str) -> bool:
    return kind == MediaAsset.Kind.VIDEO


def asset_proxy_enqueue(*, asset_id) -> None:
    """Queue the proxy of a new video; with Redis away the preview falls back to the original file."""
    try:
        django_rq.get_queue("default", commit_mode="auto").enqueue(PROXY_TASK, str(asset_id), job_timeout=600)
    except (redis.RedisError, OSError) as exc:
        logger.warning("asset %s: proxy not queued (%s); the preview uses the original", asset_id, exc)
        MediaAsset.objects.filter(pk=asset_id, proxy_status=ProxyStatus.PREPARING).update(
            proxy_status=ProxyStatus.FAILED)


def asset_proxy_build(*, asset_id) -> str:
    """Make and store the proxy of asset `asset_id` if it is still waiting for one; returns the new status."""
    asset = MediaAsset.objects.filter(pk=asset_id, proxy_status=ProxyStatus.PREPARING).first()
    if asset is None:
        return "skipped"
    stored = ""
    with tempfile.TemporaryDirectory(prefix="cutline-proxy-") as tmp:
        out = Path(tmp) / "proxy.mp4"
        try:
            with asset.file.open("rb") as src:
                source = Path(tmp) / f"source{Path(asset.file.name).suffix}"
                with open(source, "wb") as dst:
                    for chunk in iter(lambda: src.read(1024 * 1024), b""):
                        dst.write(chunk)
        except OSError:
            logger.exception("asset %s: original unreadable for the proxy", asset_id)
            source = None
        if source is not None and proxy_make(source, MediaProbe.from_dict(asset.probe or {}), out):
            with open(out, "rb") as handle:
                stored = default_storage.save(asset.proxy.field.generate_filename(asset, "proxy.mp4"), File(handle))
    status = ProxyStatus.READY if stored else ProxyStatus.FAILED
    # Conditional: an asset deleted meanwhile gets no row back, and its file is removed here.
    updated = MediaAsset.objects.filter(pk=asset_id, proxy_status=ProxyStatus.PREPARING).update(
        proxy=stored, proxy_status=status)
    if not updated and stored:
        default_storage.delete(stored)
    logger.info("asset %s: proxy %s", asset_id, status)
    return status
