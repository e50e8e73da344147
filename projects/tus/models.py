"""A resumable (tus 1.0) upload in progress: how long it will be, how much has arrived, where the parts are.

Part of the projects app (imported by projects.models); the tus endpoints are projects.tus.api."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class ResumableUploadQuerySet(models.QuerySet):
    def visible_to(self, user) -> ResumableUploadQuerySet:
        return self.filter(owner=user) if user.is_authenticated else self.none()


class ResumableUpload(models.Model):
    """Received bytes are stored as parts (one stored object per accepted PATCH) under `parts_prefix`,
    so any web process can take the next PATCH; the last one assembles them into a MediaAsset."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="resumable_uploads")
    length = models.BigIntegerField()
    offset = models.BigIntegerField(default=0)
    metadata = models.JSONField(default=dict, blank=True)
    parts = models.JSONField(default=list, blank=True)  # [[offset, size, stored name], ...] in order
    asset = models.ForeignKey("projects.MediaAsset", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ResumableUploadQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["updated_at"], name="upload_updated")]

    def __str__(self) -> str:
        return f"upload {self.id} ({self.offset}/{self.length})"

    @property
    def parts_prefix(self) -> str:
        return f"uploads/{self.owner_id}/{self.id}/"

    @property
    def complete(self) -> bool:
        return self.offset >= self.length
