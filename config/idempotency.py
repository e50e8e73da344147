"""`Idempotency-Key` on every API POST: the first answer is stored for IDEMPOTENCY_TTL (24 h) and replayed.

Scoped per user and path, so two users (or two endpoints) never share a key. A repeat while the first
request still runs answers 409; the same key with a different body answers 422 (as the IETF
idempotency-key draft says). 5xx answers are not stored, so a retry after a server error runs again.
Kept in Redis: when Redis is away, requests go through without replay protection (logged).
"""

from __future__ import annotations

import hashlib
import json
import logging

import redis
from asgiref.sync import iscoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import sync_and_async_middleware

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
PREFIX = "cutline:idempotency:"
IN_FLIGHT_TTL = 600  # seconds a first request may run before its key is free again
MAX_STORED_BYTES = 1024 * 1024
MAX_FINGERPRINTED_BODY = 1024 * 1024
REPLAYED_HEADERS = ("Location", "ETag")


def _error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"type": "client_error", "code": code,
                         "errors": [{"code": code.lower(), "detail": detail, "attr": HEADER}]}, status=status)


def _redis() -> redis.Redis:
    from jobs.services import queue_connection  # the short-timeout connection the API already uses

    return queue_connection()


def _user_id(request: HttpRequest) -> str | None:
    """Who is asking, resolved like DRF's authenticators will resolve it (Token, JWT, then session)."""
    auth = request.headers.get("Authorization", "")
    kind, _, credential = auth.partition(" ")
    if kind == "Token" and credential:
        from rest_framework.authtoken.models import Token

        user_id = Token.objects.filter(key=credential.strip()).values_list("user_id", flat=True).first()
        return str(user_id) if user_id else None
    if kind == "Bearer" and credential:
        from rest_framework_simplejwt.exceptions import TokenError
        from rest_framework_simplejwt.tokens import AccessToken

        try:
            return str(AccessToken(credential.strip())["user_id"])
        except (TokenError, KeyError):
            return None
    user = getattr(request, "user", None)
    return str(user.pk) if user is not None and user.is_authenticated else None


def _fingerprint(request: HttpRequest) -> str:
    length = int(request.headers.get("Content-Length") or 0)
    content_type = request.headers.get("Content-Type", "")
    if length <= MAX_FINGERPRINTED_BODY and not content_type.startswith("multipart/"):
        return hashlib.sha256(request.body).hexdigest()
    # Uploads are not read into memory for this: their type and size stand in for the bytes.
    return hashlib.sha256(f"{content_type}|{length}".encode()).hexdigest()


class _Guard:
    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self.key: str | None = None
        self.fingerprint = ""

    def before(self) -> HttpResponse | None:
        request = self.request
        raw = request.headers.get(HEADER)
        if raw is None or request.method != "POST" or not request.path.startswith("/api/"):
            return None
        if not (1 <= len(raw) <= 255) or not raw.isprintable():
            return _error(400, "INVALID_IDEMPOTENCY_KEY", "Idempotency-Key must be 1 to 255 printable characters.")
        user_id = _user_id(request)
        if user_id is None:
            return None  # the view answers 401; nothing to remember
        scope = hashlib.sha256(f"{user_id}\0{request.path.rstrip('/')}\0{raw}".encode()).hexdigest()
        self.key = PREFIX + scope
        self.fingerprint = _fingerprint(request)
        try:
            conn = _redis()
            if conn.set(self.key, json.dumps({"state": "running", "fingerprint": self.fingerprint}),
                        nx=True, ex=IN_FLIGHT_TTL):
                return None
            stored = conn.get(self.key)
        except (redis.RedisError, OSError) as exc:
            logger.warning("Idempotency-Key not enforced (Redis unavailable): %s", exc)
            self.key = None
            return None
        self_key, self.key = self.key, None  # this request neither stores nor frees the key
        record = json.loads(stored) if stored else {"state": "running", "fingerprint": self.fingerprint}
        if record["fingerprint"] != self.fingerprint:
            return _error(422, "IDEMPOTENCY_KEY_REUSED",
                          "This Idempotency-Key was used with a different request body.")
        if record["state"] == "running":
            return _error(409, "IDEMPOTENCY_KEY_IN_USE",
                          "A request with this Idempotency-Key is still being processed; retry in a moment.")
        response = HttpResponse(record["body"].encode("latin-1"), status=record["status"],
                                content_type=record["content_type"])
        for name, value in record.get("headers", {}).items():
            response[name] = value
        response["Idempotent-Replayed"] = "true"
        logger.debug("replayed %s", self_key)
        return response

    def after(self, response: HttpResponse) -> None:
        if self.key is None:
            return
        try:
            conn = _redis()
            storable = (response.status_code < 500 and not response.streaming
                        and len(response.content) <= MAX_STORED_BYTES)
            if not storable:
                conn.delete(self.key)
                return
            record = {
                "state": "done", "fingerprint": self.fingerprint, "status": response.status_code,
                "content_type": response.get("Content-Type", "application/json"),
                "body": response.content.decode("latin-1"),
                "headers": {name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)},
            }
            conn.set(self.key, json.dumps(record), ex=settings.IDEMPOTENCY_TTL)
        except (redis.RedisError, OSError) as exc:
            logger.warning("Idempotency-Key answer not stored (Redis unavailable): %s", exc)


@sync_and_async_middleware
def IdempotencyKeyMiddleware(get_response):
    if iscoroutinefunction(get_response):
        async def middleware(request: HttpRequest):
            guard = _Guard(request)
            early = await sync_to_async(guard.before)()
            if early is not None:
                return early
            response = await get_response(request)
            await sync_to_async(guard.after)(response)
            return response
    else:
        def middleware(request: HttpRequest):
            guard = _Guard(request)
            early = guard.before()
            if early is not None:
                return early
            response = get_response(request)
            guard.after(response)
            return response
    return middleware


def openapi_idempotency_header(result, generator, request, public):
    """drf-spectacular postprocessing hook: document the `Idempotency-Key` header on every API POST."""
    parameter = {
        "name": HEADER, "in": "header", "required": False, "schema": {"type": "string", "maxLength": 255},
        "description": "Makes a retried POST safe: the first answer is stored for 24 h and replayed "
                       "(`Idempotent-Replayed: true`); the same key with another body answers 422, a key "
                       "whose first request is still running answers 409.",
    }
    for path, operations in result.get("paths", {}).items():
        post = operations.get("post")
        if post is not None and path.startswith("/api/"):
            post.setdefault("parameters", []).append(parameter)
    return result
