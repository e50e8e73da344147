"""`POST /api/realtime/ticket` (CONTRACT §1): a short-lived ticket for `?token=` on a WebSocket or SSE URL."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from realtime.tickets import ticket_issue


@extend_schema(
    request=None,
    responses=inline_serializer(
        "RealtimeTicket", {"ticket": serializers.CharField(), "expires_in": serializers.IntegerField()}
    ),
)
@api_view(["POST"])
def realtime_ticket(request: Request) -> Response:
    return Response({"ticket": ticket_issue(user=request.user), "expires_in": settings.REALTIME_TICKET_TTL})
