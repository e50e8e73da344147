"""The jobs app's failures, each carrying its contract `error_code` (the renderer's own are in jobs.render.errors)."""

from __future__ import annotations

from rest_framework import status as http_status

from config.exceptions import CutlineError, ErrorItem


class QuotaExceeded(CutlineError):
    error_code = "QUOTA_EXCEEDED"
    http_status = http_status.HTTP_429_TOO_MANY_REQUESTS


class QueueUnavailable(CutlineError):
    error_code = "QUEUE_UNAVAILABLE"
    http_status = http_status.HTTP_503_SERVICE_UNAVAILABLE
    error_type = "server_error"


class JobStateConflict(CutlineError):
    error_code = "JOB_STATE_CONFLICT"
    http_status = http_status.HTTP_409_CONFLICT


class StorageError(CutlineError):
    error_code = "STORAGE_ERROR"
    http_status = http_status.HTTP_500_INTERNAL_SERVER_ERROR
    error_type = "server_error"


class RenderFailedInQueue(Exception):
    """Raised out of the RQ task after a render's failure was recorded on the job, so that RQ files the
    RQ job under "Failed" too and the queue dashboard agrees with the admin. Carries no new information:
    the job row (error_code, error_message) is the truth."""


class WebhookStateConflict(CutlineError):
    """A webhook action that the endpoint's or delivery's state does not allow (disabled, being sent)."""

    error_code = "JOB_STATE_CONFLICT"
    http_status = http_status.HTTP_409_CONFLICT


class WebhookTargetInvalid(CutlineError):
    """A webhook URL that may not receive deliveries (SSRF guard); `attr` names the request field."""

    error_code = "INVALID_WEBHOOK"
    http_status = http_status.HTTP_400_BAD_REQUEST
    error_type = "validation_error"

    def __init__(self, message: str, *, attr: str) -> None:
        super().__init__(message, errors=[ErrorItem(detail=message, attr=attr, code="invalid_target")])
