"""One exception family for the whole service, and the one DRF handler that shapes every 4xx body.

The body follows CONTRACT.md §3::

    {"type": "validation_error", "code": "INVALID_TIMELINE",
     "errors": [{"code": "invalid", "detail": "...", "attr": "timeline.tracks.0.clips.1.out"}]}

`type` is `validation_error` for bad input, `client_error` for other 4xx, `server_error` for 5xx.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


@dataclass
class ErrorItem:
    detail: str
    attr: str | None = None
    code: str = "invalid"

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "detail": self.detail, "attr": self.attr}


class CutlineError(Exception):
    """Base of every failure the service reports to people.

    Subclasses set `error_code` (one of CONTRACT.md's codes) and `http_status`. `errors` lists the
    individual problems; `extra` adds fields to the body (e.g. the current version on a 409).
    Messages are for people: never a file-system path, a stack trace or another user's data.
    """

    error_code: str = "RENDER_FAILED"
    http_status: int = status.HTTP_400_BAD_REQUEST
    error_type: str = "client_error"

    def __init__(
        self,
        message: str,
        *,
        errors: list[ErrorItem] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or [ErrorItem(detail=message, code=self.error_code)]
        self.extra = extra or {}


# At most this many problems are listed in one body; `error_count` then says how many there were.
MAX_ERRORS = 100
_DEFAULT_CODES = {"validation_error": "INVALID", "client_error": "BAD_REQUEST", "server_error": "SERVER_ERROR"}


def error_body(*, status_code: int, code: str, detail: str, attr: str | None = None,
               item_code: str | None = None) -> dict[str, Any]:
    """The contract's error body for code outside DRF (middleware, the SSE view, Django's error views)."""
    body_type = "validation_error" if status_code == 400 else "client_error" if status_code < 500 else "server_error"
    return _Body(type=body_type, code=code,
                 errors=[{"code": item_code or code.lower(), "detail": detail, "attr": attr}]).as_dict()


@dataclass
class _Body:
    type: str
    errors: list[dict[str, Any]] = field(default_factory=list)
    code: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "code": self.code or _DEFAULT_CODES[self.type]}
        body["errors"] = self.errors[:MAX_ERRORS]
        if len(self.errors) > MAX_ERRORS:
            # A huge document can have thousands of problems; the first ones are what a person can act on.
            body["error_count"] = len(self.errors)
        body.update(self.extra)
        return body


def _flatten(detail: Any, path: str | None = None) -> list[dict[str, Any]]:
    """Turn DRF's nested error detail into a flat list with dotted paths (`timeline.tracks.0.id`)."""
    if isinstance(detail, dict):
        items: list[dict[str, Any]] = []
        for key, value in detail.items():
            key = str(key)
            child = None if key == "non_field_errors" else (f"{path}.{key}" if path else key)
            items.extend(_flatten(value, child if key != "non_field_errors" else path))
        return items
    if isinstance(detail, list):
        items = []
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)):
                items.extend(_flatten(value, f"{path}.{index}" if path else str(index)))
            else:
                items.extend(_flatten(value, path))
        return items
    code = getattr(detail, "code", None) or "invalid"
    return [{"code": str(code), "detail": str(detail), "attr": path}]


def _database_unavailable(exc: BaseException) -> bool:
    """The database does not answer (down, unreachable, pool exhausted): not a bug, a 503."""
    from django.db import InterfaceError, OperationalError

    try:
        from psycopg_pool import PoolTimeout
    except ImportError:  # SQLite-only installs
        PoolTimeout = OperationalError
    return isinstance(exc, (OperationalError, InterfaceError, PoolTimeout))


def database_unavailable_body() -> dict[str, Any]:
    return error_body(status_code=503, code="DATABASE_UNAVAILABLE",
                      detail="The database is not answering right now. Try again in a moment.")


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, CutlineError):
        body = _Body(
            type=exc.error_type,
            code=exc.error_code,
            errors=[item.as_dict() for item in exc.errors],
            extra=exc.extra,
        )
        return Response(body.as_dict(), status=exc.http_status)

    if _database_unavailable(exc):
        logger.warning("database unavailable in %s: %s", context.get("view").__class__.__name__, exc)
        return Response(database_unavailable_body(), status=status.HTTP_503_SERVICE_UNAVAILABLE,
                        headers={"Retry-After": "5"})

    if isinstance(exc, RequestDataTooBig):
        limit_mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
        body = _Body(type="client_error", code="REQUEST_TOO_LARGE", errors=[{
            "code": "too_large", "detail": f"The request body is larger than {limit_mb:g} MB.", "attr": None}])
        return Response(body.as_dict(), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)

    if isinstance(exc, RecursionError):
        # DRF's JSON parser only turns ValueError into a ParseError; absurd nesting overflows the stack.
        exc = exceptions.ParseError("The request body is nested too deeply.")
    elif isinstance(exc, exceptions.ParseError) and str(exc.detail).startswith("JSON parse error"):
        # The parser's own text can name Python internals (e.g. sys.set_int_max_str_digits); keep it plain.
        exc = exceptions.ParseError("The request body is not valid JSON (or uses numbers too long to read).")
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        # Unhandled: DRF lets Django turn it into a 500 page; log with the view so it can be found.
        logger.exception("unhandled API error in %s", context.get("view").__class__.__name__)
        return Response(
            _Body(
                type="server_error",
                code="SERVER_ERROR",
                errors=[{"code": "error", "detail": "Something went wrong on our side.", "attr": None}],
            ).as_dict(),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    code = str(getattr(exc, "default_code", "") or "").upper() or None
    if isinstance(exc, exceptions.ValidationError):
        body = _Body(type="validation_error", code=code, errors=_flatten(exc.detail))
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        body = _Body(type="client_error" if response.status_code < 500 else "server_error", code=code,
                     errors=_flatten(detail))
    response.data = body.as_dict()
    return response
