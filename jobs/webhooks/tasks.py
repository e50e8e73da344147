"""The RQ task (queue `default`) that makes one webhook delivery attempt."""

from __future__ import annotations

from django.db import connections

from jobs.webhooks import services


def webhook_deliver(delivery_id: str) -> None:
    try:
        services.webhook_delivery_attempt(delivery_id=delivery_id)
    finally:
        connections.close_all()
