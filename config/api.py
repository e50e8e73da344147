"""API plumbing that belongs to no app: who am I, JSON 404s, hiding other users' objects."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from config.throttling import AuthAttemptThrottle


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    is_staff = serializers.BooleanField()


@extend_schema(responses=MeSerializer)
@api_view(["GET"])
def me(request: Request) -> Response:
    """The authenticated user, so an SPA or script can check its credentials."""
    user = request.user
    return Response(MeSerializer({"id": user.pk, "username": user.get_username(), "is_staff": user.is_staff}).data)


class HideForeignObjectsMixin:
    """Another user's object answers 404 to every method, including ones the URL does not support.

    Otherwise a 405 or OPTIONS' 200 would answer for ids that are not yours. Views whose URL names a
    parent (e.g. a project's renders) override `check_visible`.
    """

    def check_visible(self, kwargs) -> None:
        if self.lookup_field in kwargs:
            self.get_object()

    def http_method_not_allowed(self, request, *args, **kwargs):
        self.check_visible(kwargs)
        return super().http_method_not_allowed(request, *args, **kwargs)

    def options(self, request, *args, **kwargs):
        self.check_visible(kwargs)
        return super().options(request, *args, **kwargs)


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
def api_not_found(request: Request, *args, **kwargs) -> Response:
    """Any /api/ path no endpoint matched: the contract's JSON body rather than Django's HTML page."""
    raise NotFound("There is no such API endpoint or object.")


class ThrottledObtainAuthToken(ObtainAuthToken):
    """`POST /api/auth/token`: DRF's token view with password attempts throttled per client address."""

    throttle_classes = [AuthAttemptThrottle]


obtain_auth_token = ThrottledObtainAuthToken.as_view()
