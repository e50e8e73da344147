"""Background jobs of the projects app (RQ `default` queue)."""

from __future__ import annotations

from django.db import connections

from projects.proxies import asset_proxy_build


def asset_proxy_make(asset_id: str) -> None:
    """Make the preview proxy of one asset; quietly nothing if it is gone or already has one."""
    try:
        asset_proxy_build(asset_id=asset_id)
    finally:
        connections.close_all()
