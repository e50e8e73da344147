"""What drf-spectacular cannot see by itself, added to the OpenAPI document (`/api/schema/`):

- the error body every 4xx/5xx has (CONTRACT §3/§7), as the `Error` component and on every operation;
- the SSE endpoint (a plain async Django view, outside DRF) with its parameters;
- the realtime events (WebSocket and SSE share them), as components `JobSnapshotEvent`, `JobProgressEvent`,
  `JobCompletedEvent`, `JobFailedEvent`, `JobCanceledEvent`, and the socket paths in `x-websockets`.
The timeline document's schema is in projects/serializers.py (`Timeline`).
"""

from __future__ import annotations

from typing import Any

_STR = {"type": "string"}
_UUID = {"type": "string", "format": "uuid"}
_TIME = {"type": "string", "format": "date-time"}

ERROR = {
    "type": "object",
    "required": ["type", "code", "errors"],
    "properties": {
        "type": {"type": "string", "enum": ["validation_error", "client_error", "server_error"]},
        "code": {"type": "string", "description": (
            "e.g. INVALID, INVALID_TIMELINE, NOT_AUTHENTICATED, NOT_FOUND, METHOD_NOT_ALLOWED, THROTTLED, "
            "VERSION_CONFLICT, JOB_STATE_CONFLICT, QUEUE_UNAVAILABLE, DATABASE_UNAVAILABLE, REQUEST_TOO_LARGE")},
        "errors": {"type": "array", "maxItems": 100, "items": {
            "type": "object", "required": ["code", "detail", "attr"],
            "properties": {"code": _STR, "detail": _STR,
                           "attr": {"type": "string", "nullable": True, "description": "JSON path, e.g. "
                                    "timeline.tracks.0.clips.1.out"}}}},
        "error_count": {"type": "integer", "description": "present when more than 100 problems were found"},
    },
}

_BASE = {"type": _STR, "job_id": _UUID, "project_id": _UUID, "seq": {"type": "integer"}, "ts": _TIME}
EVENTS: dict[str, dict[str, Any]] = {
    "JobSnapshotEvent": {"type": {"type": "string", "enum": ["job.snapshot"]}, "job_id": _UUID,
                         "seq": {"type": "integer"}, "job": {"$ref": "#/components/schemas/Job"},
                         "log": {"type": "array", "items": {"type": "object", "properties": {
                             "ts": _TIME, "phase": _STR, "message": _STR}}}},
    "JobProgressEvent": {**_BASE, "type": {"type": "string", "enum": ["job.progress"]},
                         "status": _STR, "progress": {"type": "number"}, "phase": _STR, "message": _STR,
                         "eta_seconds": {"type": "number", "nullable": True,
                                         "description": "the renderer's estimate of the seconds left"}},
    "JobCompletedEvent": {**_BASE, "type": {"type": "string", "enum": ["job.completed"]}, "download_url": _STR,
                          "checksum": _STR, "size_bytes": {"type": "integer"}, "duration": {"type": "number"}},
    "JobFailedEvent": {**_BASE, "type": {"type": "string", "enum": ["job.failed"]}, "error_code": _STR,
                       "error_message": _STR,
                       "retryable": {"type": "boolean", "description": "false when Retry cannot help"}},
    "JobCanceledEvent": {**_BASE, "type": {"type": "string", "enum": ["job.canceled"]}},
}

_ERROR_RESPONSES = {
    "400": "Invalid input; `errors` names each problem's path.",
    "401": "Not authenticated.",
    "403": "Forbidden (e.g. a session request without its CSRF token).",
    "404": "No such object for this user (another user's objects are never revealed).",
    "429": "Throttled or over a limit; see `Retry-After`.",
    "503": "A part the request needs (database, queue) is not answering.",
}

_SSE = {
    "get": {
        "operationId": "jobs_events",
        "tags": ["jobs"],
        "summary": "Server-Sent Events of one job (CONTRACT §5)",
        "description": (
            "`id: <seq>`, `event: <type>`, `data: <event JSON>` (components `Job*Event`). A new stream starts with "
            "`job.snapshot`; `Last-Event-ID` (or `?last_event_id=`) resumes with every stored event after it. "
            "`: keep-alive` at least every 15 s; the stream ends after the terminal event or `timeout` idle seconds. "
            "Authenticate with a token header, the session, or `?token=<ticket>`: a ticket that opened this job's "
            "stream keeps resuming it for the life of the job."),
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": _UUID},
            {"name": "Last-Event-ID", "in": "header", "required": False, "schema": {"type": "integer"}},
            {"name": "last_event_id", "in": "query", "required": False, "schema": {"type": "integer"}},
            {"name": "timeout", "in": "query", "required": False,
             "schema": {"type": "number", "minimum": 1, "maximum": 600, "default": 300}},
            {"name": "token", "in": "query", "required": False, "schema": _STR,
             "description": "a ticket from POST /api/realtime/ticket"},
        ],
        "responses": {
            "200": {"description": "the event stream", "content": {"text/event-stream": {"schema": {
                "oneOf": [{"$ref": f"#/components/schemas/{name}"} for name in EVENTS]}}}},
            **{code: {"description": text, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}}
               for code, text in _ERROR_RESPONSES.items() if code in ("400", "401", "404", "429", "503")},
        },
    }
}

_WEBSOCKETS = {
    "/ws/jobs": "every event of every job the user owns; one job.snapshot per PENDING/RUNNING job on connect",
    "/ws/jobs/{job_id}": "that job's events; one job.snapshot on connect",
    "close codes": "4401 not authenticated, 4404 no such job or path, 4429 too many sockets, 1013 channel layer "
                   "down, 1012 server restarting",
}


def postprocess(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR
    for name, properties in EVENTS.items():
        schemas[name] = {"type": "object", "properties": properties, "required": sorted(properties)}
    error_ref = {"$ref": "#/components/schemas/Error"}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for code, text in _ERROR_RESPONSES.items():
                operation["responses"].setdefault(code, {"description": text,
                                                         "content": {"application/json": {"schema": error_ref}}})
    result.setdefault("paths", {})["/api/jobs/{id}/events"] = _SSE
    result["x-websockets"] = {"events": [f"#/components/schemas/{name}" for name in EVENTS], "paths": _WEBSOCKETS}
    return result
