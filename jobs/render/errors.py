"""The renderer's typed failures. Each carries a CONTRACT.md error code and a message for people.

Messages name the clip ("clip c2 on track v1: the media file is missing"), never a file-system path,
a command line or an encoder's log: those go to the server log only.
"""

from __future__ import annotations

from rest_framework import status

from config.exceptions import CutlineError


class RenderError(CutlineError):
    error_code = "RENDER_FAILED"
    http_status = status.HTTP_500_INTERNAL_SERVER_ERROR
    error_type = "server_error"


class MediaMissing(RenderError):
    error_code = "MEDIA_MISSING"
    http_status = status.HTTP_400_BAD_REQUEST
    error_type = "client_error"


class MediaUnreadable(RenderError):
    error_code = "MEDIA_UNREADABLE"
    http_status = status.HTTP_400_BAD_REQUEST
    error_type = "client_error"


class RenderFailed(RenderError):
    error_code = "RENDER_FAILED"


class RenderTimeout(RenderError):
    error_code = "TIMEOUT"


class RenderCanceled(RenderError):
    """Raised when `should_cancel()` turned true: the render stopped on request, it did not fail."""

    error_code = "CANCELED"
    http_status = status.HTTP_409_CONFLICT
    error_type = "client_error"
