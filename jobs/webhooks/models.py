"""Webhook endpoints and their deliveries. Imported by `jobs.models`, so they belong to the jobs app."""

from __future__ import annotations

import base64
import secrets
import uuid

from django.conf import settings
from django.db import models


def webhook_secret_new() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class WebhookEndpointQuerySet(models.QuerySet):
    def visible_to(self, user) -> WebhookEndpointQuerySet:
        return self.filter(owner=user) if user.is_authenticated else self.none()


class WebhookEndpoint(models.Model):
    class Event(models.TextChoices):
        COMPLETED = "job.completed"
        FAILED = "job.failed"
        CANCELED = "job.canceled"
        PROGRESS = "job.progress"

    TERMINAL_EVENTS = [Event.COMPLETED, Event.FAILED, Event.CANCELED]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=1000)
    events = models.JSONField(default=list, help_text="Event types delivered to this endpoint.")
    secret = models.CharField(max_length=64, default=webhook_secret_new)
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    # Made for one render's `webhook_url` rather than registered through /api/webhooks/.
    per_render = models.BooleanField(default=False)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WebhookEndpointQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.url} ({'active' if self.is_active else 'disabled'})"


class WebhookDeliveryQuerySet(models.QuerySet):
    def visible_to(self, user) -> WebhookDeliveryQuerySet:
        return self.filter(endpoint__owner=user) if user.is_authenticated else self.none()


class WebhookDelivery(models.Model):
    """One event for one endpoint. Its id is the `webhook-id` of every attempt, so receivers can dedupe."""

    class Status(models.TextChoices):
        PENDING = "PENDING"  # waiting for its (next) attempt at `next_attempt_at`
        SENDING = "SENDING"  # an attempt is in flight
        SUCCEEDED = "SUCCEEDED"
        FAILED = "FAILED"  # retries exhausted, or the endpoint was disabled or refused

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    job = models.ForeignKey("jobs.RenderJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    event_type = models.CharField(max_length=32)
    event_seq = models.PositiveIntegerField(null=True, blank=True)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # When the attempt due at `next_attempt_at` was put on the queue (the sweeper skips those already there).
    enqueued_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.CharField(max_length=1024, blank=True, help_text="At most the first 1 KB.")
    latency_ms = models.FloatField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    # When the event's transaction committed: delivery latency is measured from here.
    committed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One delivery per (endpoint, job event): a replayed publish cannot send an event twice.
            models.UniqueConstraint(fields=["endpoint", "job", "event_seq"], name="webhook_delivery_once_per_event"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due")]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.status})"

    @property
    def webhook_id(self) -> str:
        return f"msg_{self.id.hex}"
