"""The job representation of CONTRACT.md §3, and the request bodies of the job API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from jobs.models import RenderJob
from jobs.render.presets import PRESETS
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
    format = serializers.CharField(help_text="The timeline's output.format (mp4, webm, gif, png, mp3, ...)")
    format_label = serializers.CharField()
    content_type = serializers.CharField(help_text="What GET download_url answers with")
    extension = serializers.CharField()


class JobSerializer(serializers.Serializer):
    """Read-only. The fields document the shape for the schema; `job_representation` produces it."""

    id = serializers.UUIDField()
    project_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=RenderJob.Status.values)
    phase = serializers.CharField()
    progress = serializers.FloatField()
    message = serializers.CharField()
    preset = serializers.ChoiceField(choices=list(PRESETS))
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
    retryable = serializers.BooleanField(help_text="Whether Retry can help (false for failures of the input).")
    captions_url = serializers.CharField(allow_null=True, help_text="WebVTT of the burned-in captions (null: none)")
    captions_srt_url = serializers.CharField(allow_null=True, help_text="The same captions as SubRip")
    merge = serializers.DictField(allow_null=True, help_text="The merge values this job was rendered with.")
    batch_id = serializers.UUIDField(allow_null=True)
    batch_index = serializers.IntegerField(allow_null=True)

    def to_representation(self, instance: RenderJob) -> dict[str, Any]:
        return job_representation(instance)


class MergeItemSerializer(serializers.Serializer):
    merge = serializers.DictField(help_text='Values for the template\'s {{fields}}: {"name": "Ada"}.')


class RenderSubmitSerializer(serializers.Serializer):
    # From the renderer's presets (uhd included), not the model's choices: a new preset needs no migration.
    preset = serializers.ChoiceField(choices=list(PRESETS), default=RenderJob.Preset.DRAFT)
    merge = serializers.DictField(required=False, help_text="Values for the project's {{fields}}.")
    items = serializers.ListField(child=MergeItemSerializer(), required=False, min_length=1,
                                  help_text="A batch: one job per item (at most RENDER_BATCH_MAX_ITEMS, 100).")
    webhook_url = serializers.URLField(required=False, max_length=1000,
                                       help_text="Also send this render's terminal events here, signed.")

    def validate_items(self, items):
        from django.conf import settings

        if len(items) > settings.RENDER_BATCH_MAX_ITEMS:
            raise serializers.ValidationError(f"at most {settings.RENDER_BATCH_MAX_ITEMS} items in one batch")
        return items

    def validate(self, attrs):
        if "merge" in attrs and "items" in attrs:
            raise serializers.ValidationError({"items": "give either merge (one render) or items (a batch)"})
        return attrs


class JobListFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=RenderJob.Status.values, required=False)
    project = serializers.UUIDField(required=False)
