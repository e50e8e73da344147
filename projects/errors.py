"""The failures of the projects app that people see, each with its contract code (config.exceptions)."""

from __future__ import annotations

from rest_framework import status

from config.exceptions import CutlineError, ErrorItem


class MediaUnreadable(CutlineError):
    """The upload is not audio, video or an image we accept (or cannot be decoded)."""

    error_code = "MEDIA_UNREADABLE"
    http_status = status.HTTP_400_BAD_REQUEST
    error_type = "validation_error"

    def __init__(self, message: str) -> None:
        super().__init__(message, errors=[ErrorItem(detail=message, attr="file", code="MEDIA_UNREADABLE")])


class MediaTooLarge(CutlineError):
    error_code = "MEDIA_TOO_LARGE"
    http_status = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    error_type = "client_error"

    def __init__(self, limit_mb: int) -> None:
        message = f"The file is larger than the upload limit of {limit_mb} MB."
        super().__init__(message, errors=[ErrorItem(detail=message, attr="file", code="too_large")],
                         extra={"max_upload_mb": limit_mb})


class ProbeUnavailable(CutlineError):
    """ffprobe is missing or broken on this server: our fault, not the file's."""

    error_code = "PROBE_UNAVAILABLE"
    http_status = status.HTTP_503_SERVICE_UNAVAILABLE
    error_type = "server_error"

    def __init__(self) -> None:
        super().__init__("Media cannot be examined on this server right now (ffprobe is unavailable). "
                         "Try again later or tell the operator.")


class VersionConflict(CutlineError):
    """A save based on an older version of the project: the client must reload (or merge) and retry."""

    error_code = "VERSION_CONFLICT"
    http_status = status.HTTP_409_CONFLICT
    error_type = "client_error"

    def __init__(self, *, current_version: int, sent_version: int, project: dict | None = None) -> None:
        message = (f"The project was changed elsewhere: you sent version {sent_version}, the current version is "
                   f"{current_version}. Reload it and apply your change again.")
        extra = {"current_version": current_version}
        if project is not None:
            extra["project"] = project
        super().__init__(message, errors=[ErrorItem(detail=message, attr="version", code="conflict")], extra=extra)


class AssetInUse(CutlineError):
    error_code = "ASSET_IN_USE"
    http_status = status.HTTP_409_CONFLICT
    error_type = "client_error"

    def __init__(self, *, asset_name: str, projects: list[dict], renders: int = 0) -> None:
        names = ", ".join(f"'{p['name']}'" for p in projects)
        parts = []
        if projects:
            parts.append(f"the timeline of {'project' if len(projects) == 1 else 'projects'} {names}")
        if renders:
            parts.append(f"{renders} render{'s' if renders != 1 else ''} in progress")
        message = (f"'{asset_name}' is used by {' and '.join(parts)}; "
                   "remove it from there before deleting it.")
        super().__init__(message, errors=[ErrorItem(detail=message, attr=None, code="in_use")],
                         extra={"projects": projects})
