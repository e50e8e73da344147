"""Shapes of projects and assets on the wire (CONTRACT §3). Validation of the timeline lives in
projects.timeline; these only check the envelope."""

from __future__ import annotations

from collections.abc import Mapping

from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from config.exceptions import MAX_ERRORS
from projects.models import MediaAsset, Project
from projects.timeline.openapi import TimelineField


class ProjectSerializer(serializers.ModelSerializer):
    duration = serializers.FloatField(read_only=True, help_text="Where the last clip ends, in seconds.")
    clip_count = serializers.IntegerField(read_only=True)
    timeline = TimelineField(read_only=True)
    renders_url = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = ["id", "name", "description", "timeline", "version", "created_at", "updated_at", "duration",
                  "clip_count", "renders_url"]
        read_only_fields = fields

    def get_renders_url(self, project: Project) -> str:
        return f"/api/projects/{project.id}/renders"


class ProjectWriteSerializer(serializers.Serializer):
    """The fields a client may send; `version` is the one its change is based on (optional)."""

    name = serializers.CharField(max_length=200)
    description = serializers.CharField(allow_blank=True, required=False, max_length=10_000)
    timeline = TimelineField(required=False, allow_null=True)
    version = serializers.IntegerField(required=False, min_value=1)

    # Fields of the project representation a client may send back unchanged (a PUT of what GET returned);
    # they are ignored. Anything else unknown is refused, so a misspelt `timline` cannot be lost silently.
    READ_ONLY_ECHO = frozenset(ProjectSerializer.Meta.fields) - {"name", "description", "timeline", "version"}

    def __init__(self, *args, require_timeline: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if require_timeline:
            self.fields["timeline"].required = True
            self.fields["timeline"].allow_null = False

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(str(key) for key in data if key not in self.fields and key not in self.READ_ONLY_ECHO)
            if unknown:
                known = ", ".join(self.fields)
                raise serializers.ValidationError({
                    key[:100]: [ErrorDetail(f"unknown field {key[:100]!r}: a project body has {known}.",
                                      code="unknown_field")]
                    for key in unknown[:MAX_ERRORS]
                })
        return super().to_internal_value(data)


class AssetSerializer(serializers.ModelSerializer):
    content_type = serializers.CharField(read_only=True)
    file_url = serializers.CharField(read_only=True)
    thumbnail_url = serializers.CharField(read_only=True, allow_null=True)
    filmstrip_url = serializers.CharField(read_only=True, allow_null=True)
    proxy_url = serializers.CharField(read_only=True, allow_null=True,
                                      help_text="A light copy for previews once `proxy_status` is ready; renders "
                                                "always use the original.")

    class Meta:
        model = MediaAsset
        fields = ["id", "name", "kind", "container", "content_type", "duration", "width", "height", "fps",
                  "has_audio", "video_codec", "audio_codec", "size_bytes", "sha256", "file_url", "thumbnail_url",
                  "filmstrip_url", "filmstrip_frames", "proxy_status", "proxy_url", "created_at"]
        read_only_fields = fields


class AssetUploadSerializer(serializers.Serializer):
    # Empty files are let through here so that the probe refuses them with MEDIA_UNREADABLE like any
    # other file that is not media.
    file = serializers.FileField(allow_empty_file=True, use_url=False)
    name = serializers.CharField(max_length=255, required=False, allow_blank=True)
