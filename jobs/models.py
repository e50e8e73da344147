from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class RenderJobQuerySet(models.QuerySet):
    def visible_to(self, user) -> RenderJobQuerySet:
        return self.filter(owner=user) if user.is_authenticated else self.none()

    def active(self) -> RenderJobQuerySet:
        return self.filter(status__in=RenderJob.ACTIVE_STATUSES)


def job_result_to(instance: RenderJob, filename: str) -> str:
    return f"renders/{instance.owner_id}/{instance.id}/{filename}"


class RenderJob(models.Model):
    class Status(models.TextChoices):
        PENDING = "PENDING"
        RUNNING = "RUNNING"
        SUCCEEDED = "SUCCEEDED"
        FAILED = "FAILED"
        CANCELED = "CANCELED"

    class Preset(models.TextChoices):
        DRAFT = "draft"
        HD = "hd"
        FULL_HD = "full_hd"
        PROJECT = "project"

    ACTIVE_STATUSES = (Status.PENDING, Status.RUNNING)
    TERMINAL_STATUSES = (Status.SUCCEEDED, Status.FAILED, Status.CANCELED)
    # Failures that say something about the input: running the same frozen timeline again fails the same
    # way, so neither the sweeper nor a person retries them (a new render of the fixed project does).
    UNRETRYABLE_ERRORS = frozenset({"INVALID_TIMELINE", "MEDIA_MISSING", "MEDIA_UNREADABLE"})

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)  # also the RQ job id
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="render_jobs")
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="render_jobs")
    retry_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    timeline = models.JSONField(help_text="The timeline as it was when the render was submitted.")
    preset = models.CharField(max_length=16, choices=Preset.choices, default=Preset.DRAFT)
    output_width = models.PositiveIntegerField()
    output_height = models.PositiveIntegerField()
    output_fps = models.FloatField()

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    phase = models.CharField(max_length=32, default="QUEUED")
    progress = models.FloatField(default=0.0)
    message = models.CharField(max_length=500, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    error_message = models.TextField(blank=True)
    attempt = models.PositiveSmallIntegerField(default=1)
    cancel_requested = models.BooleanField(default=False)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    # When the job was last put on the queue: the sweeper re-enqueues PENDING jobs whose RQ job is gone,
    # but leaves alone the ones whose on-commit enqueue may still be on its way.
    queued_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker_name = models.CharField(max_length=200, blank=True)

    result_file = models.FileField(upload_to=job_result_to, max_length=255, blank=True)
    result_sha256 = models.CharField(max_length=64, blank=True)
    result_size_bytes = models.BigIntegerField(null=True, blank=True)
    result_duration = models.FloatField(null=True, blank=True)
    result_width = models.PositiveIntegerField(null=True, blank=True)
    result_height = models.PositiveIntegerField(null=True, blank=True)
    result_fps = models.FloatField(null=True, blank=True)
    render_path = models.CharField(max_length=16, blank=True, help_text="Which renderer path produced the result.")
    poster = models.FileField(upload_to=job_result_to, max_length=255, blank=True)
    result_purged_at = models.DateTimeField(null=True, blank=True)

    # Templates and batches (docs/automation.md): the merge values applied to the project's timeline, a
    # digest of them (part of the one-active-job constraint), and the batch the job was submitted in.
    merge = models.JSONField(default=dict, blank=True)
    merge_key = models.CharField(max_length=64, blank=True, default="")
    batch_id = models.UUIDField(null=True, blank=True, db_index=True)
    batch_index = models.PositiveIntegerField(null=True, blank=True)
    webhook_endpoint = models.ForeignKey("jobs.WebhookEndpoint", null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="+", help_text="The render's own `webhook_url`, if any.")

    last_seq = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RenderJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One active single render per project and merge (an unmerged render has merge_key "");
            # the jobs of a batch are kept apart by their batch and place in it instead.
            models.UniqueConstraint(
                fields=["project", "merge_key"],
                condition=Q(status__in=["PENDING", "RUNNING"], batch_id__isnull=True),
                name="one_active_render_per_project_merge",
            ),
            models.UniqueConstraint(fields=["batch_id", "batch_index"], name="one_job_per_batch_item"),
        ]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="job_owner_recent"),
            models.Index(fields=["project", "-created_at"], name="job_project_recent"),
            models.Index(fields=["status", "heartbeat_at"], name="job_status_heartbeat"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} render {self.id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL_STATUSES

    @property
    def retryable(self) -> bool:
        """Whether Retry can help: a canceled render, or one that failed for a reason other than its input."""
        if self.status == self.Status.CANCELED:
            return True
        return self.status == self.Status.FAILED and self.error_code not in self.UNRETRYABLE_ERRORS

    @property
    def has_result(self) -> bool:
        return self.status == self.Status.SUCCEEDED and bool(self.result_file) and self.result_purged_at is None

    @property
    def duration_seconds(self) -> float | None:
        """How long the last attempt ran (so far, while RUNNING)."""
        if self.started_at is None:
            return None
        end = self.finished_at or timezone.now()
        return max(0.0, (end - self.started_at).total_seconds())


class JobEvent(models.Model):
    """Append-only log of what was told about a job: the source of SSE replay and snapshots' `log`."""

    job = models.ForeignKey(RenderJob, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    type = models.CharField(max_length=32)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["job", "seq"]
        constraints = [models.UniqueConstraint(fields=["job", "seq"], name="job_event_seq_unique")]

    def __str__(self) -> str:
        return f"{self.job_id} #{self.seq} {self.type}"


from jobs.webhooks.models import WebhookDelivery, WebhookEndpoint  # noqa: E402, F401  (models of this app)
