from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework_simplejwt import views as jwt

from config import api, health, metrics, throttling

urlpatterns = [
    re_path(r"^healthz/?$", health.healthz, name="healthz"),
    re_path(r"^readyz/?$", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("accounts/login/", throttling.ThrottledLoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    re_path(r"^api/auth/token/?$", api.obtain_auth_token, name="api-token"),
    re_path(r"^api/auth/me/?$", api.me, name="api-me"),
    re_path(r"^api/auth/jwt/create/?$", jwt.TokenObtainPairView.as_view(), name="api-jwt-create"),
    re_path(r"^api/auth/jwt/refresh/?$", jwt.TokenRefreshView.as_view(), name="api-jwt-refresh"),
    re_path(r"^api/auth/jwt/logout/?$", jwt.TokenBlacklistView.as_view(), name="api-jwt-logout"),
    re_path(r"^metrics/?$", metrics.metrics_view, name="metrics"),
    re_path(r"^api/schema/?$", SpectacularAPIView.as_view(), name="api-schema"),
    re_path(r"^api/docs/?$", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("projects.urls")),
    path("api/", include("jobs.urls")),
    path("api/", include("realtime.urls")),
    path("api/", include("projects.tus.urls")),
    re_path(r"^api/", api.api_not_found),
    path("", include("projects.pages")),
    path("", include("jobs.pages")),
]
