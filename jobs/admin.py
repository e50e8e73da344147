from __future__ import annotations

from functools import wraps

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import URLPattern
from django_rq.admin import QueueAdmin
from django_rq.models import Dashboard


def _is_superuser(request) -> bool:
    return request.user.is_active and request.user.is_superuser


def _superuser_only(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not _is_superuser(request):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


@admin.register(Dashboard)
class SuperuserQueueAdmin(QueueAdmin):
    """django-rq's queue dashboard (admin → Django_Rq → Dashboard), for superusers only.

    Staff operators manage renders through the job admin; the raw queue can delete and requeue
    anything, so it stays with superusers.
    """

    def has_module_permission(self, request) -> bool:
        return _is_superuser(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return _is_superuser(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return _is_superuser(request)

    def get_urls(self) -> list[URLPattern]:
        return [
            URLPattern(url.pattern, _superuser_only(url.callback), url.default_args, url.name)
            for url in super().get_urls()
        ]
