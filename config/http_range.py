"""Serve a stored file with HTTP Range support (RFC 9110 §14), streamed in chunks under WSGI and ASGI alike.

Used for asset bytes, thumbnails and render results. Responses never name the storage path: the
caller supplies the download name, and a file missing from storage is a plain 404. With object storage
and `STORAGE_PRESIGNED_DOWNLOADS`, the answer is instead a 302 to a presigned URL of the object
(`STORAGE_PRESIGNED_EXPIRY` seconds), which serves the bytes and Range itself.

Why not FileResponse: under ASGI, Django consumes a synchronous iterator by reading it whole into
memory before sending (`StreamingHttpResponse.__aiter__`), which for a video is exactly what must not
happen. So the body is an async generator for ASGI requests and a plain one for WSGI requests.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.handlers.asgi import ASGIRequest
from django.db.models.fields.files import FieldFile
from django.http import Http404, HttpResponse, HttpResponseBase, HttpResponseRedirect, StreamingHttpResponse
from django.utils.http import content_disposition_header

from config.storage import storage_read_range, storage_url_for_download

CHUNK_SIZE = 256 * 1024
_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


class _Unsatisfiable(Exception):
    pass


# Positions longer than this are past the end of any file; Python refuses to parse >4300 digits at all.
_MAX_DIGITS = 20
_FAR = 10**_MAX_DIGITS


def _position(digits: str) -> int:
    digits = digits.lstrip("0") or "0"
    return _FAR if len(digits) > _MAX_DIGITS else int(digits)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single satisfiable range; None to send the whole file.

    Raises _Unsatisfiable for a well-formed range that starts past the end. Malformed or multi-part
    ranges are ignored (the whole file is sent), which RFC 9110 allows.
    """
    if not header:
        return None
    match = _RANGE_RE.match(header.replace(" ", ""))
    if not match:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # a suffix: the last N bytes
        suffix = _position(last_text)
        if suffix == 0 or size == 0:
            raise _Unsatisfiable
        return max(0, size - suffix), size - 1
    first = _position(first_text)
    last = _position(last_text) if last_text else size - 1
    if last_text and last < first:
        return None
    if first >= size:
        raise _Unsatisfiable
    return first, min(last, size - 1)


def _chunks(storage, name: str, start: int, length: int) -> Iterator[bytes]:
    yield from storage_read_range(storage, name, start, length, CHUNK_SIZE)


_DONE = object()


async def _achunks(storage, name: str, start: int, length: int) -> AsyncIterator[bytes]:
    # Each chunk is read in a worker thread and handed to the server before the next is read, so the
    # client's pace (the server's send backpressure) sets the read pace and nothing piles up here.
    chunks = storage_read_range(storage, name, start, length, CHUNK_SIZE)
    step = sync_to_async(lambda: next(chunks, _DONE), thread_sensitive=False)
    try:
        while (chunk := await step()) is not _DONE:
            yield chunk
    finally:
        await sync_to_async(chunks.close, thread_sensitive=False)()


def _resolve(file_field_or_name: Any) -> tuple[Any, str]:
    if isinstance(file_field_or_name, FieldFile):
        return file_field_or_name.storage, file_field_or_name.name or ""
    return default_storage, str(file_field_or_name or "")


def ranged_file_response(
    request,
    file_field_or_name: FieldFile | str,
    *,
    content_type: str,
    filename: str,
    as_attachment: bool = False,
) -> HttpResponseBase:
    """200 with the whole file, 206 with the requested range, 304 for a matching If-None-Match, 416
    for a range past the end; Http404 when there is no such stored file."""
    django_request = getattr(request, "_request", request)
    storage, name = _resolve(file_field_or_name)
    if not name:
        raise Http404("No file.")
    try:
        size = storage.size(name)
    except (OSError, ValueError):
        raise Http404("No file.") from None
    if settings.STORAGE_PRESIGNED_DOWNLOADS:
        # The caller has authorized the request; the bytes then come from the storage, not this process.
        url = storage_url_for_download(storage, name, filename=filename, as_attachment=as_attachment,
                                       content_type=content_type, expire=settings.STORAGE_PRESIGNED_EXPIRY)
        if url is not None:
            redirect = HttpResponseRedirect(url)
            redirect["Cache-Control"] = "private, no-store"  # the URL expires: never reuse this answer
            return redirect

    # Stored names are generated and never rewritten, so name and size identify the content.
    etag = '"' + hashlib.sha256(f"{name}:{size}".encode()).hexdigest()[:32] + '"'
    common = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Cache-Control": "private, max-age=3600",
        "X-Content-Type-Options": "nosniff",
    }
    if_none_match = django_request.headers.get("If-None-Match", "")
    if etag in [tag.strip() for tag in if_none_match.split(",")] or if_none_match.strip() == "*":
        response: HttpResponseBase = HttpResponse(status=304)
        for key, value in common.items():
            response[key] = value
        return response

    range_header = django_request.headers.get("Range")
    if_range = django_request.headers.get("If-Range")
    if if_range is not None and if_range.strip() != etag:
        range_header = None  # the client's partial copy is of something else: send it all

    try:
        wanted = parse_range(range_header, size)
    except _Unsatisfiable:
        response = HttpResponse(status=416, content_type="text/plain")
        response.content = b"Requested range not satisfiable.\n"
        response["Content-Range"] = f"bytes */{size}"
        for key, value in common.items():
            response[key] = value
        return response

    start, length, status = 0, size, 200
    if wanted is not None:
        start, length, status = wanted[0], wanted[1] - wanted[0] + 1, 206

    if django_request.method == "HEAD":
        response = HttpResponse(status=status, content_type=content_type)
    else:
        body = _achunks(storage, name, start, length) if isinstance(django_request, ASGIRequest) else _chunks(
            storage, name, start, length)
        response = StreamingHttpResponse(body, status=status, content_type=content_type)
    response["Content-Length"] = str(length)
    if status == 206:
        response["Content-Range"] = f"bytes {start}-{start + length - 1}/{size}"
    response["Content-Disposition"] = content_disposition_header(as_attachment, filename)
    for key, value in common.items():
        response[key] = value
    return response
