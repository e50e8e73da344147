"""DRF throttles, counted in the Redis cache (shared by every web process).

Rates come from settings (`API_THROTTLE_RATES`, filled from the environment), read on every request
so a test or an operator's override applies at once. A throttled request answers 429 with
`Retry-After` and the contract's error body (code `THROTTLED`). When Redis is away the cache degrades
to misses (config/cache.py) and nothing is throttled: the API keeps answering.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import LoginView
from django.http import HttpResponse
from rest_framework.throttling import SimpleRateThrottle


class _SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_RATES.get(self.scope)


class AuthAttemptThrottle(_SettingsRateThrottle):
    """Password attempts (`POST /api/auth/token`), per client address: guessing passwords gets slow."""

    scope = "auth"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class _PerUser(_SettingsRateThrottle):
    methods: frozenset[str] = frozenset()

    def allow_request(self, request, view) -> bool:
        if request.method not in self.methods:
            return True
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str:
        user = getattr(request, "user", None)
        ident = f"user-{user.pk}" if user is not None and user.is_authenticated else f"anon-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ApiReadThrottle(_PerUser):
    scope = "read"
    methods = frozenset({"GET", "HEAD", "OPTIONS"})


class ApiWriteThrottle(_PerUser):
    scope = "write"
    methods = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ThrottledLoginView(LoginView):
    """The login page, with password attempts counted against the same `auth` rate as the token endpoint."""

    def post(self, request, *args, **kwargs):
        throttle = AuthAttemptThrottle()
        if not throttle.allow_request(request, self):
            wait = max(1, round(throttle.wait() or 1))
            response = HttpResponse(
                "Too many login attempts from your address. Try again in a minute.", status=429,
                content_type="text/plain; charset=utf-8",
            )
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)
