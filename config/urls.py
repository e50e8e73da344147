from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

from config import api, health

urlpatterns = [
    re_path(r"^healthz/?$", health.healthz, name="healthz"),
    re_path(r"^readyz/?$", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    re_path(r"^api/auth/token/?$", obtain_auth_token, name="api-token"),
    re_path(r"^api/auth/me/?$", api.me, name="api-me"),
    re_path(r"^api/schema/?$", SpectacularAPIView.as_view(), name="api-schema"),
    re_path(r"^api/docs/?$", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("projects.urls")),
    path("api/", include("jobs.urls")),
    path("api/", include("realtime.urls")),
    path("api/", include("uploads.urls")),
    re_path(r"^api/", api.api_not_found),
    path("", include("projects.pages")),
    path("", include("jobs.pages")),
]
