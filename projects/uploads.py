"""The upload handler for media: straight to a temporary file, hashed and size-checked as the bytes arrive.

Installed for the asset endpoints only (`AssetViewSet.initialize_request`), before anything can read
the body (DRF's CSRF check for session users parses it during authentication). The declared
Content-Length is checked before parsing starts, and the running byte count while streaming, so an
over-limit upload is refused without ever holding it whole in memory or writing it to MEDIA_ROOT.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler

from projects.errors import MediaTooLarge

# The multipart envelope (boundaries, part headers, the `name` field) around the file itself.
MULTIPART_ALLOWANCE = 64 * 1024


def max_upload_bytes() -> int:
    return settings.MEDIA_MAX_UPLOAD_MB * 1024 * 1024


class MediaUploadHandler(TemporaryFileUploadHandler):
    def __init__(self, request=None) -> None:
        super().__init__(request)
        self.received_total = 0
        self.sha256 = hashlib.sha256()

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > max_upload_bytes() + MULTIPART_ALLOWANCE:
            raise MediaTooLarge(settings.MEDIA_MAX_UPLOAD_MB)
        return None

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.sha256 = hashlib.sha256()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.received_total += len(raw_data)
        if self.received_total > max_upload_bytes():
            self.file.close()  # a NamedTemporaryFile: closing it removes it
            raise MediaTooLarge(settings.MEDIA_MAX_UPLOAD_MB)
        self.sha256.update(raw_data)
        self.file.write(raw_data)

    def file_complete(self, file_size: int):
        uploaded = super().file_complete(file_size)
        uploaded.sha256 = self.sha256.hexdigest()
        return uploaded
