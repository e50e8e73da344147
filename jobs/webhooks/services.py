"""Webhook endpoints and deliveries: every change to them goes through here.

A job event that an endpoint subscribes to becomes one `WebhookDelivery` row in the transaction that
stores the event; after commit it goes on the `default` RQ queue. Each attempt is claimed with a
conditional update (PENDING → SENDING), so two workers never send the same attempt, and every attempt
carries the delivery's id as `webhook-id`, so a receiver that saw it already can drop a repeat.
Failed attempts are retried with exponential backoff for WEBHOOK_RETRY_FOR (24 h); the sweeper enqueues
attempts that came due. An endpoint that fails WEBHOOK_DISABLE_AFTER attempts in a row is disabled.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timedelta
from typing import Any

import django_rq
import httpx
import redis
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from jobs.errors import WebhookStateConflict, WebhookTargetInvalid
from jobs.webhooks.models import WebhookDelivery, WebhookEndpoint, webhook_secret_new
from jobs.webhooks.targets import TargetRefused, pinned_request, webhook_target_check

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status
RESPONSE_BODY_LIMIT = 1024
MAX_BACKOFF = timedelta(hours=1)
# An attempt still SENDING after this long lost its worker: the sweeper makes it due again.
SENDING_LOST_AFTER = timedelta(minutes=2)
USER_AGENT = "Cutline-Webhooks/1"
# Loading the CA bundle takes tens of milliseconds; do it once, at import, so RQ's forked work horses
# inherit it (the worker imports this module through the admin) instead of paying it per delivery.
_TLS = httpx.create_ssl_context()


# --- Endpoints ------------------------------------------------------------------------------------------


def webhook_target_validate(url: str, *, attr: str = "url") -> str:
    try:
        webhook_target_check(url)
    except TargetRefused as exc:
        raise WebhookTargetInvalid(f"{url!r} cannot receive webhooks: {exc}", attr=attr) from None
    return url


def webhook_endpoint_create(*, owner, url: str, events: list[str], description: str = "") -> WebhookEndpoint:
    webhook_target_validate(url)
    count = WebhookEndpoint.objects.filter(owner=owner, per_render=False).count()
    if count >= settings.WEBHOOK_MAX_ENDPOINTS_PER_USER:
        raise WebhookStateConflict(f"You already have {count} webhook endpoints (the limit is "
                                   f"{settings.WEBHOOK_MAX_ENDPOINTS_PER_USER}); remove one first.")
    endpoint = WebhookEndpoint.objects.create(owner=owner, url=url, events=sorted(set(events)),
                                              description=description)
    logger.info("webhook endpoint %s created for user %s", endpoint.pk, owner.pk)
    return endpoint


def webhook_endpoint_update(*, endpoint: WebhookEndpoint, **changes: Any) -> WebhookEndpoint:
    """Change url/events/description/is_active. Re-activating clears the failure count and the notice."""
    if "url" in changes:
        webhook_target_validate(changes["url"])
    if "events" in changes:
        changes["events"] = sorted(set(changes["events"]))
    if changes.get("is_active") and not endpoint.is_active:
        changes.update(consecutive_failures=0, disabled_at=None, disabled_reason="")
    for name, value in changes.items():
        setattr(endpoint, name, value)
    endpoint.save()
    return endpoint


def webhook_secret_rotate(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    endpoint.secret = webhook_secret_new()
    endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint


def webhook_endpoint_for_render(*, owner, url: str) -> tuple[WebhookEndpoint, bool]:
    """The per-render endpoint for a render's `webhook_url` (terminal events), reused per (owner, url)."""
    webhook_target_validate(url, attr="webhook_url")
    endpoint = WebhookEndpoint.objects.filter(owner=owner, url=url, per_render=True).first()
    if endpoint is not None:
        return endpoint, False
    endpoint = WebhookEndpoint.objects.create(owner=owner, url=url, per_render=True,
                                              events=list(WebhookEndpoint.TERMINAL_EVENTS),
                                              description="webhook_url of a render")
    return endpoint, True


# --- Recording events (called by the job services inside their transaction) ---------------------------------


def webhook_events_record(job, event: dict[str, Any]) -> int:
    """Create the deliveries `event` of `job` causes, and enqueue them once the transaction commits."""
    event_type = event.get("type")
    targets = Q(owner_id=job.owner_id, per_render=False)
    if job.webhook_endpoint_id:
        targets |= Q(pk=job.webhook_endpoint_id)
    endpoints = [e for e in WebhookEndpoint.objects.filter(targets, is_active=True).only("id", "events")
                 if event_type in e.events]
    if not endpoints:
        return 0
    now = timezone.now()
    body = {"type": event_type, "timestamp": event.get("ts"), "data": event}
    deliveries = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(endpoint_id=e.id, job_id=job.id, event_type=event_type, event_seq=event.get("seq"),
                         payload=body, next_attempt_at=now, enqueued_at=now) for e in endpoints],
        ignore_conflicts=True,
    )
    ids = [d.id for d in deliveries]
    transaction.on_commit(lambda: _committed(ids))
    return len(ids)


def _committed(ids: list) -> None:
    WebhookDelivery.objects.filter(pk__in=ids).update(committed_at=timezone.now())
    for delivery_id in ids:
        _enqueue(delivery_id)


def _enqueue(delivery_id) -> None:
    from jobs.webhooks import tasks

    try:
        django_rq.get_queue("default", commit_mode="auto").enqueue(
            tasks.webhook_deliver, str(delivery_id), job_timeout=int(settings.WEBHOOK_TIMEOUT * 3 + 30),
            result_ttl=0, failure_ttl=24 * 3600, description=f"webhook {delivery_id}",
        )
    except (redis.RedisError, OSError) as exc:
        # Nothing lost: the row stays due and the sweeper enqueues it again.
        logger.warning("webhook delivery %s: could not enqueue (%s); the sweeper will", delivery_id, exc)


# --- Sending --------------------------------------------------------------------------------------------


def _backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=settings.WEBHOOK_RETRY_BASE * 2 ** max(0, attempts - 1)), MAX_BACKOFF)


def webhook_sign(*, secret: str, webhook_id: str, sent_at: datetime, body: str) -> dict[str, str]:
    """The Standard Webhooks headers for one attempt."""
    signature = Webhook(secret).sign(msg_id=webhook_id, timestamp=sent_at, data=body)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def _post(url: str, *, address: str, headers: dict[str, str], body: str) -> tuple[int, str]:
    """POST to the vetted `address`, with no redirects and WEBHOOK_TIMEOUT for connect, each read and the
    whole exchange."""
    timeout = settings.WEBHOOK_TIMEOUT
    deadline = time.monotonic() + timeout
    pinned, host, extensions = pinned_request(url, address)
    with httpx.Client(follow_redirects=False, timeout=timeout, trust_env=False, verify=_TLS) as client:
        request = client.build_request("POST", pinned, content=body.encode(), headers={**headers, **host},
                                       extensions=extensions)
        response = client.send(request, stream=True)
        try:
            kept = bytearray()
            for chunk in response.iter_bytes():
                if len(kept) < RESPONSE_BODY_LIMIT:
                    kept += chunk[: RESPONSE_BODY_LIMIT - len(kept)]
                if len(kept) >= RESPONSE_BODY_LIMIT or time.monotonic() > deadline:
                    break  # the rest is neither wanted nor stored
        finally:
            response.close()
        # PostgreSQL text cannot hold NUL: a receiver's binary answer must not break the log.
        return response.status_code, kept.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def webhook_delivery_attempt(*, delivery_id) -> WebhookDelivery | None:
    """Make the due attempt of one delivery. Returns None when it is not due (done, or taken by another worker)."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True), pk=delivery_id, status=Status.PENDING,
    ).update(status=Status.SENDING, last_attempt_at=now)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        return _finish(delivery, status=Status.FAILED, error="The endpoint is disabled.")

    body = json.dumps(delivery.payload, separators=(",", ":"))
    started = time.monotonic()
    code, text, error = None, "", ""
    try:
        address = webhook_target_check(endpoint.url)
        sent_at = timezone.now()
        code, text = _post(endpoint.url, address=address, body=body,
                           headers=webhook_sign(secret=endpoint.secret, webhook_id=delivery.webhook_id,
                                                sent_at=sent_at, body=body))
    except TargetRefused as exc:
        error = f"Refused: {exc}."
    except httpx.TimeoutException:
        error = f"No answer within {settings.WEBHOOK_TIMEOUT:g} s."
    except httpx.HTTPError as exc:
        error = f"Could not connect: {type(exc).__name__}."
    latency_ms = (time.monotonic() - started) * 1000.0
    ok = code is not None and 200 <= code < 300
    if code is not None and not ok:
        error = f"The endpoint answered {code}" + (" (redirects are not followed)." if 300 <= code < 400 else ".")
    fields = {"response_code": code, "response_body": text, "latency_ms": latency_ms, "error": error[:500]}
    if ok:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0)
        return _finish(delivery, status=Status.SUCCEEDED, delivered_at=timezone.now(), **fields)
    return _failed_attempt(delivery, **fields)


def _finish(delivery: WebhookDelivery, **fields: Any) -> WebhookDelivery:
    fields.setdefault("next_attempt_at", None)
    fields["attempts"] = delivery.attempts + 1
    WebhookDelivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(**fields)
    delivery.refresh_from_db()
    _metrics_count(delivery)
    return delivery


def _failed_attempt(delivery: WebhookDelivery, **fields: Any) -> WebhookDelivery:
    attempts = delivery.attempts + 1
    due = timezone.now() + _backoff(attempts)
    endpoint = delivery.endpoint
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    endpoint.refresh_from_db(fields=["consecutive_failures", "is_active"])
    if endpoint.is_active and endpoint.consecutive_failures >= settings.WEBHOOK_DISABLE_AFTER:
        webhook_endpoint_disable(
            endpoint=endpoint,
            reason=f"Disabled after {endpoint.consecutive_failures} failed delivery attempts in a row "
                   f"(last: {fields['error'] or 'no answer'}). Fix the receiver, then set is_active to true.",
        )
    elif due < delivery.created_at + timedelta(seconds=settings.WEBHOOK_RETRY_FOR) and endpoint.is_active:
        logger.info("webhook delivery %s: attempt %s failed (%s); next at %s", delivery.pk, attempts,
                    fields["error"], due)
        return _finish(delivery, status=Status.PENDING, next_attempt_at=due, **fields)
    logger.warning("webhook delivery %s: giving up after %s attempts (%s)", delivery.pk, attempts, fields["error"])
    return _finish(delivery, status=Status.FAILED, **fields)


def webhook_endpoint_disable(*, endpoint: WebhookEndpoint, reason: str) -> None:
    """Stop delivering to `endpoint`; the reason is the notice shown in the API and the admin."""
    with transaction.atomic():
        changed = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
            is_active=False, disabled_at=timezone.now(), disabled_reason=reason[:500])
        if changed:
            WebhookDelivery.objects.filter(endpoint_id=endpoint.pk, status=Status.PENDING).update(
                status=Status.FAILED, next_attempt_at=None, error="The endpoint was disabled.")
    if changed:
        logger.warning("webhook endpoint %s (user %s) disabled: %s", endpoint.pk, endpoint.owner_id, reason)


def _metrics_count(delivery: WebhookDelivery) -> None:
    from config import metrics

    metrics.webhook_attempt_observe(outcome=delivery.status, latency_ms=delivery.latency_ms)


def webhook_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again now, with the same `webhook-id` (a receiver that got it already can drop it)."""
    if not delivery.endpoint.is_active:
        raise WebhookStateConflict("The endpoint is disabled; set is_active to true before redelivering.")
    now = timezone.now()
    changed = WebhookDelivery.objects.filter(pk=delivery.pk).exclude(status=Status.SENDING).update(
        status=Status.PENDING, next_attempt_at=now, enqueued_at=now, error="")
    if not changed:
        raise WebhookStateConflict("This delivery is being sent right now.")
    transaction.on_commit(lambda: _enqueue(delivery.pk))
    delivery.refresh_from_db()
    return delivery


# --- The sweeper's part ---------------------------------------------------------------------------------


def webhook_deliveries_due_enqueue(*, now: datetime | None = None) -> int:
    """Enqueue attempts that came due (retries), and recover attempts whose worker was lost mid-send."""
    now = now or timezone.now()
    WebhookDelivery.objects.filter(status=Status.SENDING, last_attempt_at__lt=now - SENDING_LOST_AFTER).update(
        status=Status.PENDING, next_attempt_at=now)
    due = WebhookDelivery.objects.filter(
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=F("next_attempt_at"))
        | Q(enqueued_at__lt=now - SENDING_LOST_AFTER),
        status=Status.PENDING, next_attempt_at__lte=now,
    )
    ids = list(due.values_list("id", flat=True)[:1000])
    if ids:
        WebhookDelivery.objects.filter(pk__in=ids).update(enqueued_at=now)
        for delivery_id in ids:
            _enqueue(delivery_id)
    return len(ids)
