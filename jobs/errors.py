"""The jobs app's failures, each carrying its contract `error_code` (the renderer's own are in jobs.render.errors)."""

from __future__ import annotations

from rest_framework import status as http_status

from config.exceptions import CutlineError


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
