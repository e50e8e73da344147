"""Webhook endpoint and delivery bodies."""

from __future__ import annotations

from rest_framework import serializers

from jobs.webhooks.models import WebhookDelivery, WebhookEndpoint


class WebhookEndpointSerializer(serializers.ModelSerializer):
    """The endpoint as listed and read: the secret is shown once, in the answer to the POST that creates it."""

    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEndpoint.Event.values),
                                   allow_empty=False, max_length=4)

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "events", "description", "is_active", "per_render", "consecutive_failures",
                  "disabled_at", "disabled_reason", "created_at", "updated_at"]
        read_only_fields = ["id", "per_render", "consecutive_failures", "disabled_at", "disabled_reason",
                            "created_at", "updated_at"]


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="whsec_…: shown only in this answer.")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookEndpointInputSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=1000)
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEndpoint.Event.values),
                                   allow_empty=False, max_length=4)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)

    def validate(self, attrs):
        unknown = set(self.initial_data) - set(self.fields) if isinstance(self.initial_data, dict) else set()
        if unknown:
            raise serializers.ValidationError({name: "unknown field" for name in sorted(unknown)})
        return attrs


class WebhookDeliverySerializer(serializers.ModelSerializer):
    webhook_id = serializers.CharField(read_only=True)
    endpoint_id = serializers.UUIDField(read_only=True)
    job_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = WebhookDelivery
        fields = ["id", "webhook_id", "endpoint_id", "job_id", "event_type", "event_seq", "status", "attempts",
                  "response_code", "response_body", "latency_ms", "error", "next_attempt_at", "last_attempt_at",
                  "delivered_at", "created_at", "payload"]
        read_only_fields = fields
