"""`/api/webhooks/` (endpoints) and `/api/webhook-deliveries/` (the delivery log, redelivery)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import HideForeignObjectsMixin
from config.wire import is_uuid
from jobs.webhooks import services
from jobs.webhooks.models import WebhookDelivery, WebhookEndpoint
from jobs.webhooks.serializers import (
    WebhookDeliverySerializer,
    WebhookEndpointCreatedSerializer,
    WebhookEndpointInputSerializer,
    WebhookEndpointSerializer,
)


class WebhookEndpointViewSet(HideForeignObjectsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                             mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Your webhook endpoints. Deliveries are signed per Standard Webhooks with the endpoint's secret."""

    serializer_class = WebhookEndpointSerializer

    def get_queryset(self):
        return WebhookEndpoint.objects.visible_to(self.request.user)

    @extend_schema(request=WebhookEndpointInputSerializer, responses={201: WebhookEndpointCreatedSerializer})
    def create(self, request: Request) -> Response:
        body = WebhookEndpointInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        endpoint = services.webhook_endpoint_create(owner=request.user, url=data["url"], events=data["events"],
                                                    description=data.get("description", ""))
        return Response(WebhookEndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=WebhookEndpointInputSerializer, responses=WebhookEndpointSerializer)
    def partial_update(self, request: Request, pk=None) -> Response:
        endpoint = self.get_object()
        body = WebhookEndpointInputSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_update(endpoint=endpoint, **body.validated_data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(request=None, responses=WebhookEndpointCreatedSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk=None) -> Response:
        """A new signing secret, shown in this answer only; the old one stops signing at once."""
        endpoint = services.webhook_secret_rotate(endpoint=self.get_object())
        return Response(WebhookEndpointCreatedSerializer(endpoint).data)

    @extend_schema(responses=WebhookDeliverySerializer(many=True))
    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, pk=None) -> Response:
        endpoint = self.get_object()
        page = self.paginate_queryset(endpoint.deliveries.order_by("-created_at"))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


class WebhookDeliveryViewSet(HideForeignObjectsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                             viewsets.GenericViewSet):
    """The delivery log of all your endpoints (status, response code, latency, next attempt)."""

    serializer_class = WebhookDeliverySerializer

    def get_queryset(self):
        deliveries = WebhookDelivery.objects.visible_to(self.request.user).order_by("-created_at")
        job = self.request.query_params.get("job")
        return deliveries.filter(job_id=job) if job and self.action == "list" and is_uuid(job) else deliveries

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer,
                                            409: OpenApiResponse(description="endpoint disabled")})
    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, pk=None) -> Response:
        delivery = services.webhook_redeliver(delivery=self.get_object())
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
