"""The failures of resumable uploads that clients see, each with its code (config.exceptions shapes the body)."""

from __future__ import annotations

from config.exceptions import CutlineError, ErrorItem


class UploadHeaderInvalid(CutlineError):
    error_code = "INVALID_UPLOAD"
    http_status = 400
    error_type = "validation_error"

    def __init__(self, header: str, message: str) -> None:
        super().__init__(message, errors=[ErrorItem(detail=message, attr=header, code="invalid")])


class UploadOffsetConflict(CutlineError):
    """The PATCH does not start where the upload stands: the client asks (HEAD) and resumes from there."""

    error_code = "UPLOAD_OFFSET_CONFLICT"
    http_status = 409
    error_type = "client_error"

    def __init__(self, *, sent: int, current: int) -> None:
        message = f"The upload is at byte {current}, not {sent}: ask for its offset (HEAD) and resume from there."
        super().__init__(message, errors=[ErrorItem(detail=message, attr="Upload-Offset", code="conflict")],
                         extra={"current_offset": current})


class UploadChecksumMismatch(CutlineError):
    error_code = "CHECKSUM_MISMATCH"
    http_status = 460  # tus 1.0 checksum extension
    error_type = "client_error"

    def __init__(self) -> None:
        message = "The chunk's checksum does not match its bytes; it was not stored. Send it again."
        super().__init__(message, errors=[ErrorItem(detail=message, attr="Upload-Checksum", code="mismatch")])


class UploadVersionUnsupported(CutlineError):
    error_code = "TUS_VERSION_UNSUPPORTED"
    http_status = 412
    error_type = "client_error"

    def __init__(self) -> None:
        message = "This server speaks tus 1.0.0: send the header Tus-Resumable: 1.0.0."
        super().__init__(message, errors=[ErrorItem(detail=message, attr="Tus-Resumable", code="unsupported")])


class UploadContentTypeInvalid(CutlineError):
    error_code = "UNSUPPORTED_MEDIA_TYPE"
    http_status = 415
    error_type = "client_error"

    def __init__(self) -> None:
        message = "A chunk is sent with Content-Type: application/offset+octet-stream."
        super().__init__(message, errors=[ErrorItem(detail=message, attr="Content-Type", code="unsupported")])


class UploadChunkTooLarge(CutlineError):
    error_code = "MEDIA_TOO_LARGE"
    http_status = 413
    error_type = "client_error"

    def __init__(self, limit_mb: int) -> None:
        message = f"A chunk may carry at most {limit_mb} MB; send the rest in further PATCH requests."
        super().__init__(message, errors=[ErrorItem(detail=message, attr="Content-Length", code="too_large")],
                         extra={"max_chunk_mb": limit_mb})
