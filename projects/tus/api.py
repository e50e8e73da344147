"""tus 1.0 endpoints (core, creation, termination, checksum): `/api/uploads/` and `/api/uploads/{id}`.

Thin: headers are parsed here, the work is in projects.tus.services. The body is read from Django's request
stream in blocks (`request._request`), never through DRF's parsers. Every answer, errors included,
carries `Tus-Resumable`; errors have the contract's JSON body.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from projects.tus import services
from projects.tus.errors import (
    UploadChunkTooLarge,
    UploadContentTypeInvalid,
    UploadHeaderInvalid,
    UploadVersionUnsupported,
)
from projects.tus.models import ResumableUpload
from projects.uploads import max_upload_bytes

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination,checksum"
CHUNK_TYPE = "application/offset+octet-stream"
EXPOSED = ("Location, Upload-Offset, Upload-Length, Upload-Metadata, Tus-Resumable, Tus-Version, Tus-Extension, "
           "Tus-Max-Size, Tus-Checksum-Algorithm, Cutline-Asset-Id")


def _header(name: str, kind=OpenApiTypes.STR, *, required: bool = False, text: str = "") -> OpenApiParameter:
    return OpenApiParameter(name, kind, OpenApiParameter.HEADER, required=required, description=text)


TUS_HEADER = _header("Tus-Resumable", required=True, text="Always `1.0.0`.")
_STATE = inline_serializer("ResumableUploadState", {
    "id": serializers.UUIDField(), "length": serializers.IntegerField(), "offset": serializers.IntegerField(),
    "asset_id": serializers.UUIDField(allow_null=True),
})


class _OptionsOpenOtherwiseAuthenticated(IsAuthenticated):
    """OPTIONS (capability discovery, CORS preflight) needs no credentials; everything else does."""

    def has_permission(self, request, view) -> bool:
        return request.method == "OPTIONS" or super().has_permission(request, view)


class _TusView(APIView):
    permission_classes = [_OptionsOpenOtherwiseAuthenticated]

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        if request.method != "OPTIONS" and request.headers.get("Tus-Resumable") != TUS_VERSION:
            raise UploadVersionUnsupported

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Tus-Resumable"] = TUS_VERSION
        response["Cache-Control"] = "no-store"
        response["Access-Control-Expose-Headers"] = EXPOSED
        if response.status_code == 412:
            response["Tus-Version"] = TUS_VERSION
        return response

    def options(self, request: Request, *args, **kwargs) -> Response:
        response = Response(status=204)
        response["Tus-Version"] = TUS_VERSION
        response["Tus-Extension"] = TUS_EXTENSIONS
        response["Tus-Max-Size"] = str(max_upload_bytes())
        response["Tus-Checksum-Algorithm"] = ",".join(services.CHECKSUM_ALGORITHMS)
        return response


class UploadCreateView(_TusView):
    @extend_schema(
        summary="Start a resumable upload (tus 1.0 creation)", request=None,
        parameters=[TUS_HEADER, _header("Upload-Length", OpenApiTypes.INT, required=True, text="Total bytes."),
                    _header("Upload-Metadata", text="tus metadata: `filename <base64>,name <base64>`.")],
        responses={201: OpenApiResponse(description="Created; `Location` is the upload's URL."),
                   413: OpenApiResponse(description="Longer than the upload limit.")},
    )
    def post(self, request: Request) -> Response:
        if "Upload-Defer-Length" in request.headers:
            raise UploadHeaderInvalid("Upload-Defer-Length", "Uploads of unknown length are not supported: send "
                                                             "Upload-Length.")
        length = services.parse_non_negative("Upload-Length", request.headers.get("Upload-Length"))
        metadata = services.parse_metadata(request.headers.get("Upload-Metadata", ""))
        upload = services.upload_create(owner=request.user, length=length, metadata=metadata)
        response = Response(status=201)
        response["Location"] = request.build_absolute_uri(f"/api/uploads/{upload.id}")
        response["Upload-Offset"] = "0"
        return response


class UploadView(_TusView):
    def _upload(self, request: Request, pk) -> ResumableUpload:
        return get_object_or_404(ResumableUpload.objects.visible_to(request.user), pk=pk)

    def head(self, request: Request, pk) -> Response:
        upload = self._upload(request, pk)
        response = Response(status=200)
        response["Upload-Offset"] = str(upload.offset)
        response["Upload-Length"] = str(upload.length)
        if upload.asset_id:
            response["Cutline-Asset-Id"] = str(upload.asset_id)
        return response

    @extend_schema(summary="The upload's state (not part of tus); `asset_id` once complete",
                   parameters=[TUS_HEADER], responses={200: _STATE})
    def get(self, request: Request, pk) -> Response:
        """Not part of tus: the upload's state as JSON, with the asset it became once complete."""
        return Response(services.upload_state(self._upload(request, pk)))

    @extend_schema(
        summary="Append a chunk at Upload-Offset (tus 1.0 core, checksum extension)",
        request={"application/offset+octet-stream": OpenApiTypes.BINARY},
        parameters=[TUS_HEADER, _header("Upload-Offset", OpenApiTypes.INT, required=True),
                    _header("Upload-Checksum", text="`sha1|sha256|md5 <base64 digest>` of this chunk.")],
        responses={204: OpenApiResponse(description="Stored; `Upload-Offset` is the new offset, "
                                                     "`Cutline-Asset-Id` the asset once complete."),
                   409: OpenApiResponse(description="Not at that offset."),
                   460: OpenApiResponse(description="Checksum mismatch.")},
    )
    def patch(self, request: Request, pk) -> Response:
        if request.content_type.split(";")[0].strip() != CHUNK_TYPE:
            raise UploadContentTypeInvalid
        upload = self._upload(request, pk)
        offset = services.parse_non_negative("Upload-Offset", request.headers.get("Upload-Offset"))
        declared = request.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > services.max_chunk_bytes():
            raise UploadChunkTooLarge(settings.UPLOAD_MAX_CHUNK_MB)
        checksum = services.parse_checksum(request.headers.get("Upload-Checksum"))
        upload = services.upload_append(upload=upload, offset=offset, stream=request._request, checksum=checksum)
        response = Response(status=204)
        response["Upload-Offset"] = str(upload.offset)
        if upload.asset_id:
            response["Cutline-Asset-Id"] = str(upload.asset_id)
        return response

    @extend_schema(summary="Abandon an upload and remove its parts (tus termination)", request=None,
                   parameters=[TUS_HEADER], responses={204: None})
    def delete(self, request: Request, pk) -> Response:
        upload = self._upload(request, pk)
        if upload.asset_id:
            raise Http404("The upload is complete; delete the asset instead.")
        services.upload_terminate(upload=upload)
        return Response(status=204)
