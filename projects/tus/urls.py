"""tus endpoints, mounted under /api/ (with and without a trailing slash, like every API path)."""

from __future__ import annotations

from django.urls import re_path

from projects.tus.api import UploadCreateView, UploadView

urlpatterns = [
    re_path(r"^uploads/?$", UploadCreateView.as_view(), name="upload-create"),
    re_path(r"^uploads/(?P<pk>[0-9a-fA-F-]{36})/?$", UploadView.as_view(), name="upload-detail"),
]
