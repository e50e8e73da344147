from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models

from projects.probe import CONTENT_TYPES
from projects.timeline import timeline_clip_count, timeline_duration, timeline_empty


class ProjectQuerySet(models.QuerySet):
    def visible_to(self, user) -> ProjectQuerySet:
        return self.filter(owner=user) if user.is_authenticated else self.none()


class Project(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    timeline = models.JSONField(default=timeline_empty)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["owner", "-updated_at"], name="project_owner_recent")]

    def __str__(self) -> str:
        return self.name

    @property
    def duration(self) -> float:
        return timeline_duration(self.timeline)

    @property
    def clip_count(self) -> int:
        return timeline_clip_count(self.timeline)


def asset_upload_to(instance: MediaAsset, filename: str) -> str:
    """Stored names are generated; the uploaded name is kept only in `MediaAsset.name`."""
    suffix = PurePosixPath(filename).suffix.lower()[:8]
    return f"assets/{instance.owner_id}/{uuid.uuid4().hex}{suffix}"


def asset_derived_to(instance: MediaAsset, filename: str) -> str:
    return f"assets/{instance.owner_id}/derived/{uuid.uuid4().hex}{PurePosixPath(filename).suffix.lower()}"


class MediaAssetQuerySet(models.QuerySet):
    def visible_to(self, user) -> MediaAssetQuerySet:
        return self.filter(owner=user) if user.is_authenticated else self.none()


class ProxyStatus(models.TextChoices):
    NONE = "none"  # not needed (audio, images) or an asset from before proxies
    PREPARING = "preparing"
    READY = "ready"
    FAILED = "failed"  # the preview uses the original file


class MediaAsset(models.Model):
    ProxyStatus = ProxyStatus

    class Kind(models.TextChoices):
        VIDEO = "video"
        AUDIO = "audio"
        IMAGE = "image"
        SUBTITLES = "subtitles"  # .srt / .vtt (projects.subtitles), for captions tracks

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assets")
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    file = models.FileField(upload_to=asset_upload_to, max_length=255)
    container = models.CharField(max_length=40, blank=True)
    duration = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    fps = models.FloatField(null=True, blank=True)
    has_audio = models.BooleanField(default=False)
    video_codec = models.CharField(max_length=40, blank=True)
    audio_codec = models.CharField(max_length=40, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, db_index=True)
    thumbnail = models.FileField(upload_to=asset_derived_to, max_length=255, blank=True)
    filmstrip = models.FileField(upload_to=asset_derived_to, max_length=255, blank=True)
    filmstrip_frames = models.PositiveSmallIntegerField(default=0)
    # A light copy for the editor's preview monitor (≤ 480 lines, H.264, short GOP for quick seeks), made by
    # a worker after the upload. Renders always read `file`.
    proxy = models.FileField(upload_to=asset_derived_to, max_length=255, blank=True)
    proxy_status = models.CharField(max_length=10, choices=ProxyStatus.choices, default=ProxyStatus.NONE)
    # ffprobe's findings as `projects.probe.MediaProbe.as_dict()`: reused for a re-upload of the same bytes.
    probe = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MediaAssetQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="asset_owner_recent")]

    def __str__(self) -> str:
        return self.name

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES.get(self.container, "application/octet-stream")

    @property
    def file_url(self) -> str:
        return f"/api/assets/{self.id}/file"

    @property
    def thumbnail_url(self) -> str | None:
        return f"/api/assets/{self.id}/thumbnail" if self.thumbnail else None

    @property
    def filmstrip_url(self) -> str | None:
        return f"/api/assets/{self.id}/filmstrip" if self.filmstrip else None

    @property
    def proxy_url(self) -> str | None:
        return f"/api/assets/{self.id}/proxy" if self.proxy and self.proxy_status == ProxyStatus.READY else None


# Resumable (tus) uploads belong to the projects app; their model lives beside the protocol's code.
from projects.tus.models import ResumableUpload  # noqa: E402, F401
