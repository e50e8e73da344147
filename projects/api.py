"""REST endpoints for projects and media assets (CONTRACT §3): authenticate, validate, call a service, shape."""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePath

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import HideForeignObjectsMixin
from config.http_range import ranged_file_response
from jobs.services import project_delete_with_renders
from projects import services
from projects.errors import VersionConflict
from projects.models import MediaAsset, Project
from projects.serializers import AssetSerializer, AssetUploadSerializer, ProjectSerializer, ProjectWriteSerializer
from projects.uploads import MediaUploadHandler
from projects.view_state import project_view_save


def _if_match_version(request: Request) -> int | None:
    """The version named by `If-Match: "7"` (or W/"7", or 7); None when absent or `*`."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    tag = header.split(",")[0].strip()
    tag = tag.removeprefix("W/").strip('"').strip()
    try:
        return int(tag)
    except ValueError:
        raise ValidationError({"If-Match": [f'If-Match must name a project version, like "7" (got {header!r}).']}) \
            from None


class StillQuerySerializer(serializers.Serializer):
    t = serializers.FloatField(min_value=0, max_value=86_400)
    width = serializers.IntegerField(min_value=16, max_value=1920, required=False, default=640)


class ProjectDuplicateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)


def _etag(project: Project) -> str:
    return f'"{project.version}"'


@extend_schema(tags=["projects"])
class ProjectViewSet(
    HideForeignObjectsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Your projects, newest change first. Saves are optimistic: send the `version` you edited (in the body
    or as `If-Match: "<version>"`) and a stale one answers 409 with the current version."""

    serializer_class = ProjectSerializer

    def get_queryset(self):
        return Project.objects.visible_to(self.request.user).order_by("-updated_at", "-created_at")

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        project = self.get_object()
        return Response(self.get_serializer(project).data, headers={"ETag": _etag(project)})

    @extend_schema(request=ProjectWriteSerializer, responses={201: ProjectSerializer})
    def create(self, request: Request) -> Response:
        incoming = ProjectWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        project = services.project_create(owner=request.user, name=data["name"],
                                          description=data.get("description", ""), timeline=data.get("timeline"))
        return Response(self.get_serializer(project).data, status=status.HTTP_201_CREATED,
                        headers={"Location": f"/api/projects/{project.id}", "ETag": _etag(project)})

    @extend_schema(request=ProjectWriteSerializer, responses={200: ProjectSerializer},
                   parameters=[OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER)])
    def update(self, request: Request, *args, partial: bool = False, **kwargs) -> Response:
        project = self.get_object()
        incoming = ProjectWriteSerializer(data=request.data, partial=partial, require_timeline=not partial)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        expected = _if_match_version(request)
        if expected is not None and "version" in data and data["version"] != expected:
            raise ValidationError({"version": [f"version ({data['version']}) and If-Match ({expected}) disagree."]})
        if expected is None:
            expected = data.get("version")
        changes = {key: data[key] for key in ("name", "description", "timeline") if key in data}
        if not partial:
            changes.setdefault("description", "")
        try:
            project = services.project_update(project=project, expected_version=expected, **changes)
        except VersionConflict as conflict:
            current = self.get_queryset().filter(pk=project.pk).first()
            if current is not None:
                conflict.extra["project"] = self.get_serializer(current).data
            raise
        except Project.DoesNotExist:
            raise Http404 from None
        return Response(self.get_serializer(project).data, headers={"ETag": _etag(project)})

    @extend_schema(request=ProjectWriteSerializer, responses={200: ProjectSerializer},
                   parameters=[OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER)])
    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        # The project's renders go with it: the active one is stopped, result files deleted after commit.
        project_delete_with_renders(project=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["put"], url_path="view")
    def save_view(self, request: Request, pk=None) -> Response:
        """The editor's state (`timeline.view`: playhead, zoom, track names): saved without a new version."""
        project = self.get_object()
        try:
            view = project_view_save(project=project, view=request.data)
        except Project.DoesNotExist:
            raise Http404 from None
        return Response({"view": view, "version": project.version})

    @extend_schema(parameters=[OpenApiParameter("t", OpenApiTypes.DOUBLE), OpenApiParameter("width", OpenApiTypes.INT)],
                   responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def still(self, request: Request, pk=None) -> HttpResponse:
        """The exact frame at `t` seconds of the saved timeline, `width` px wide (JPEG), as a render draws it."""
        from jobs.render.still import still_render, still_sources

        project = self.get_object()
        incoming = StillQuerySerializer(data=request.query_params)
        incoming.is_valid(raise_exception=True)
        timeline = project.timeline
        at = min(incoming.validated_data["t"], max(0.0, project.duration))
        with tempfile.TemporaryDirectory(prefix="cutline-still-") as work_dir:
            picture = still_render(timeline, still_sources(timeline, project.owner_id, work_dir=Path(work_dir)),
                                   at=at, width=incoming.validated_data["width"])
        response = HttpResponse(picture, content_type="image/jpeg")
        response["Cache-Control"] = "private, no-store"
        return response

    @extend_schema(request=OpenApiTypes.OBJECT, responses={201: ProjectSerializer})
    @action(detail=True, methods=["post"])
    def duplicate(self, request: Request, pk=None) -> Response:
        """A copy of this project (same timeline and media), optionally `{"name": "..."}`."""
        incoming = ProjectDuplicateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        copy = services.project_duplicate(project=self.get_object(), name=incoming.validated_data.get("name"))
        return Response(self.get_serializer(copy).data, status=status.HTTP_201_CREATED,
                        headers={"Location": f"/api/projects/{copy.id}", "ETag": _etag(copy)})


_FILE_ACTIONS = frozenset({"file", "thumbnail", "filmstrip", "proxy"})


@extend_schema(tags=["assets"])
class AssetViewSet(HideForeignObjectsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your media library. Upload with multipart `file` (and optional `name`); the file is probed before
    anything is kept. `?kind=video|audio|image` filters the list."""

    serializer_class = AssetSerializer

    def initialize_request(self, request, *args, **kwargs):
        # Before anything reads the body (session authentication's CSRF check parses it), so the
        # size limit applies while the upload streams in.
        request.upload_handlers = [MediaUploadHandler(request)]
        return super().initialize_request(request, *args, **kwargs)

    def get_parsers(self):
        if self.request is not None and self.request.method == "POST":
            return [MultiPartParser(), FormParser()]
        return super().get_parsers()

    def perform_content_negotiation(self, request, force=False):
        # A <video> element may send `Accept: video/*`; the bytes are not rendered by DRF, and errors
        # fall back to JSON rather than 406.
        return super().perform_content_negotiation(request, force=force or self.action in _FILE_ACTIONS)

    def get_queryset(self):
        assets = MediaAsset.objects.visible_to(self.request.user).order_by("-created_at")
        kind = self.request.query_params.get("kind") if self.action == "list" else None
        if kind:
            if kind not in MediaAsset.Kind.values:
                raise ValidationError({"kind": [f"kind must be one of {', '.join(MediaAsset.Kind.values)}."]})
            assets = assets.filter(kind=kind)
        return assets

    @extend_schema(request={"multipart/form-data": AssetUploadSerializer}, responses={201: AssetSerializer})
    def create(self, request: Request) -> Response:
        incoming = AssetUploadSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        asset = services.asset_create(owner=request.user, uploaded_file=incoming.validated_data["file"],
                                      name=incoming.validated_data.get("name") or None)
        return Response(self.get_serializer(asset).data, status=status.HTTP_201_CREATED,
                        headers={"Location": f"/api/assets/{asset.id}"})

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        services.asset_delete(asset=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _download_name(self, asset: MediaAsset, suffix: str) -> str:
        stem = PurePath(asset.name).stem if PurePath(asset.name).suffix.lower() == suffix else asset.name
        return f"{stem}{suffix}"

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY,
                              (206, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def file(self, request: Request, pk=None):
        """The uploaded bytes, with HTTP Range (206) so players can seek. `?download=1` for an attachment."""
        asset = self.get_object()
        suffix = PurePath(asset.file.name).suffix.lower()
        return ranged_file_response(request, asset.file, content_type=asset.content_type,
                                    filename=self._download_name(asset, suffix),
                                    as_attachment=request.query_params.get("download") in {"1", "true"})

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def thumbnail(self, request: Request, pk=None):
        """A poster frame (video, image) or a waveform picture (audio)."""
        asset = self.get_object()
        if not asset.thumbnail:
            raise Http404
        return self._picture(request, asset, asset.thumbnail, "thumbnail")

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def filmstrip(self, request: Request, pk=None):
        """`filmstrip_frames` pictures evenly across a video, side by side in one JPEG."""
        asset = self.get_object()
        if not asset.filmstrip:
            raise Http404
        return self._picture(request, asset, asset.filmstrip, "filmstrip")

    @extend_schema(responses={(200, "video/mp4"): OpenApiTypes.BINARY, (206, "video/mp4"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def proxy(self, request: Request, pk=None):
        """The light preview copy of a video (≤ 480 lines, H.264, short GOP), with Range; 404 until ready."""
        asset = self.get_object()
        if not asset.proxy_url:
            raise Http404
        return ranged_file_response(request, asset.proxy, content_type="video/mp4",
                                    filename=f"{PurePath(asset.name).stem}-preview.mp4", as_attachment=False)

    def _picture(self, request: Request, asset: MediaAsset, field, label: str):
        suffix = PurePath(field.name).suffix.lower()
        content_type = "image/png" if suffix == ".png" else "image/jpeg"
        return ranged_file_response(request, field, content_type=content_type,
                                    filename=f"{PurePath(asset.name).stem}-{label}{suffix}", as_attachment=False)
