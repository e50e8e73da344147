"""The job representation of CONTRACT.md §3, and the request bodies of the job API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from jobs.models import RenderJob
from jobs.representation import job_representation


class JobOutputSerializer(serializers.Serializer):
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    fps = serializers.FloatField()


class JobResultSerializer(serializers.Serializer):
    download_url = serializers.CharField()
    checksum = serializers.CharField(help_text="sha256:<hex>")
    size_bytes = serializers.IntegerField()
    duration = serializers.FloatField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    thumbnail_url = serializers.CharField(allow_null=True)


class JobSerializer(serializers.Serializer):
    """Read-only. The fields document the shape for the schema; `job_representation` produces it."""

    id = serializers.UUIDField()
    project_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=RenderJob.Status.values)
    phase = serializers.CharField()
    progress = serializers.FloatField()
    message = serializers.CharField()
    preset = serializers.ChoiceField(choices=RenderJob.Preset.values)
    output = JobOutputSerializer()
    attempt = serializers.IntegerField()
    error_code = serializers.CharField(allow_null=True)
    error_message = serializers.CharField(allow_null=True)
    result = JobResultSerializer(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()
    events_url = serializers.CharField()
    ws_url = serializers.CharField()
    cancel_requested = serializers.BooleanField()
    retry_of = serializers.UUIDField(allow_null=True)

    def to_representation(self, instance: RenderJob) -> dict[str, Any]:
        return job_representation(instance)


class RenderSubmitSerializer(serializers.Serializer):
    preset = serializers.ChoiceField(choices=RenderJob.Preset.values, default=RenderJob.Preset.DRAFT)


class JobListFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=RenderJob.Status.values, required=False)
    project = serializers.UUIDField(required=False)
