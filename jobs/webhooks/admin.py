"""Webhook endpoints and their delivery log in the admin; imported by jobs/admin.py."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import models

from config.exceptions import CutlineError
from jobs.webhooks import services
from jobs.webhooks.models import WebhookDelivery, WebhookEndpoint


class WebhookDeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    extra = 0
    can_delete = False
    max_num = 0
    ordering = ["-created_at"]
    fields = ["created_at", "event_type", "job", "status", "attempts", "response_code", "latency_ms",
              "next_attempt_at", "error"]
    readonly_fields = fields
    show_change_link = True


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "owner", "events", "is_active", "per_render", "consecutive_failures", "disabled_reason",
                    "created_at"]
    list_filter = ["is_active", "per_render"]
    search_fields = ["url", "owner__username"]
    readonly_fields = ["id", "owner", "secret", "per_render", "consecutive_failures", "disabled_at",
                       "disabled_reason", "created_at", "updated_at"]
    inlines = [WebhookDeliveryInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "event_type", "endpoint", "job", "status", "attempts", "response_code",
                    "latency_ms", "next_attempt_at"]
    list_filter = ["status", "event_type"]
    search_fields = ["endpoint__url", "job__id"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["redeliver"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Redeliver now (same webhook-id)")
    def redeliver(self, request, queryset) -> None:
        sent = 0
        for delivery in queryset.select_related("endpoint"):
            try:
                services.webhook_redeliver(delivery=delivery)
                sent += 1
            except CutlineError as exc:
                self.message_user(request, f"{delivery.pk}: {exc.message}", messages.WARNING)
        if sent:
            self.message_user(request, f"{sent} deliveries queued again.", messages.SUCCESS)
