"""The render job API (CONTRACT.md §3): thin views that authenticate, validate, call one service, shape the answer."""

from __future__ import annotations

import re

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import HideForeignObjectsMixin
from config.http_range import ranged_file_response
from jobs import selectors, services
from jobs.models import RenderJob
from jobs.representation import job_representation, published_representation
from jobs.serializers import JobListFilterSerializer, JobSerializer, RenderSubmitSerializer
from projects.models import Project

_SUBMITTED = inline_serializer(
    "RenderSubmitted", {"created": serializers.BooleanField(), "job": JobSerializer()}
)


def _own_project(request: Request, project_id) -> Project:
    return get_object_or_404(Project.objects.visible_to(request.user), pk=project_id)


def _download_name(job: RenderJob, suffix: str) -> str:
    """`<project-name>-<short id>.mp4`: readable, ASCII, nothing from the file system."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", job.project.name).strip("-").lower()[:60] or "render"
    return f"{stem}-{str(job.id)[:8]}{suffix}"


class ProjectRenderViewSet(HideForeignObjectsMixin, viewsets.GenericViewSet):
    """`/api/projects/{project_id}/renders`: a project's renders; POST starts one."""

    serializer_class = JobSerializer

    def check_visible(self, kwargs) -> None:
        if "project_id" in kwargs:
            _own_project(self.request, kwargs["project_id"])

    def get_queryset(self):
        return RenderJob.objects.visible_to(self.request.user).select_related("project")

    @extend_schema(request=RenderSubmitSerializer, responses={202: _SUBMITTED, 200: _SUBMITTED})
    def create(self, request: Request, project_id=None) -> Response:
        project = _own_project(request, project_id)
        body = RenderSubmitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        job, created = services.render_submit(project=project, user=request.user, preset=body.validated_data["preset"])
        return Response(
            {"created": created, "job": job_representation(job)},
            status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK,
        )

    def list(self, request: Request, project_id=None) -> Response:
        project = _own_project(request, project_id)
        page = self.paginate_queryset(selectors.jobs_for_project(project=project, user=request.user))
        return self.get_paginated_response([job_representation(job) for job in page])

    @extend_schema(
        responses=inline_serializer(
            "Published",
            {
                "published": serializers.BooleanField(),
                "download_url": serializers.CharField(required=False),
                "thumbnail_url": serializers.CharField(required=False, allow_null=True),
                "duration": serializers.FloatField(required=False),
                "published_at": serializers.DateTimeField(required=False),
                "job_id": serializers.UUIDField(required=False),
            },
        )
    )
    def published(self, request: Request, project_id=None) -> Response:
        project = _own_project(request, project_id)
        return Response(published_representation(selectors.project_published_job(project=project)))


class JobViewSet(HideForeignObjectsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """`/api/jobs/`: the user's own render jobs. Another user's job is 404 on every URL."""

    serializer_class = JobSerializer

    def get_queryset(self):
        jobs = RenderJob.objects.visible_to(self.request.user).select_related("project")
        if self.action == "list":
            filters = JobListFilterSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            if "status" in filters.validated_data:
                jobs = jobs.filter(status=filters.validated_data["status"])
            if "project" in filters.validated_data:
                jobs = jobs.filter(project_id=filters.validated_data["project"])
        return jobs.order_by("-created_at")

    def perform_content_negotiation(self, request, force=False):
        # A <video> element asks for `video/*`: the file actions send bytes themselves, and their
        # errors fall back to JSON instead of a 406.
        return super().perform_content_negotiation(request, force=force or self.action in ("result", "thumbnail"))

    @extend_schema(request=None, responses={202: JobSerializer, 409: OpenApiResponse(description="already finished")})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk=None) -> Response:
        job = services.job_cancel(job=self.get_object())
        return Response(job_representation(job), status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: JobSerializer, 409: OpenApiResponse(description="not retryable")})
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk=None) -> Response:
        job = services.job_retry(job=self.get_object())
        return Response(job_representation(job), status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={(200, "video/mp4"): OpenApiResponse(description="the MP4, Range supported")})
    @action(detail=True, methods=["get"])
    def result(self, request: Request, pk=None):
        job = self.get_object()
        if not job.has_result:
            raise NotFound("This render has no result (yet).")
        return ranged_file_response(
            request, job.result_file, content_type="video/mp4", filename=_download_name(job, ".mp4"),
            as_attachment=True,
        )

    @extend_schema(responses={(200, "image/jpeg"): OpenApiResponse(description="the poster frame")})
    @action(detail=True, methods=["get"])
    def thumbnail(self, request: Request, pk=None):
        job = self.get_object()
        if not job.has_result or not job.poster:
            raise NotFound("This render has no thumbnail (yet).")
        return ranged_file_response(
            request, job.poster, content_type="image/jpeg", filename=_download_name(job, ".jpg"),
            as_attachment=False,
        )
