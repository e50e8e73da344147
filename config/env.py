"""Typed readers for environment variables.

Every knob in ``config/settings.py`` goes through one of these, so a bad value stops the process at
start-up with a message naming the variable, instead of surfacing later as a confusing failure.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    """The variable's value; `<NAME>_FILE` names a file holding it instead (Docker/Kubernetes secrets)."""
    value = os.environ.get(name)
    file_name = os.environ.get(f"{name}_FILE")
    if file_name is not None and file_name.strip():
        if value is not None:
            raise ImproperlyConfigured(f"Set either {name} or {name}_FILE, not both.")
        try:
            value = Path(file_name.strip()).read_text()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "unreadable"
            raise ImproperlyConfigured(f"{name}_FILE names a file that cannot be read ({reason}).") from None
    return None if value is None else value.strip()


def env_str(name: str, default: str = "") -> str:
    raw = _raw(name)
    return default if raw is None or raw == "" else raw


def env_bool(name: str, default: bool) -> bool:
    raw = _raw(name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no, on/off), got {raw!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = _raw(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}.") from None
    _check_range(name, value, minimum, maximum)
    return value


def env_float(name: str, default: float, *, minimum: float | None = None, maximum: float | None = None) -> float:
    raw = _raw(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}.") from None
    if not math.isfinite(value):
        raise ImproperlyConfigured(f"{name} must be a finite number, got {raw!r}.")
    _check_range(name, value, minimum, maximum)
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list; empty items are dropped."""
    raw = _raw(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_redis_url(name: str, default: str) -> str:
    """A Redis URL: redis:// or rediss:// with a host (and an optional numeric database), or unix://."""
    value = env_str(name, default)
    try:
        parsed = urlparse(value)
        parsed.port  # noqa: B018  (raises ValueError on a port that is not a number)
    except ValueError:
        parsed = None
    ok = parsed is not None and (
        (parsed.scheme in ("redis", "rediss") and bool(parsed.hostname)
         and (parsed.path.strip("/") == "" or parsed.path.strip("/").isdigit()))
        or (parsed.scheme == "unix" and bool(parsed.path))
    )
    if not ok:
        shown = value if "@" not in value else "(a URL with credentials)"
        raise ImproperlyConfigured(
            f"{name} must be a Redis URL such as redis://host:6379/0, rediss://... or unix:///path, got {shown!r}."
        )
    return value


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default).lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, got {value!r}.")
    return value


def _check_range(name: str, value: float, minimum: float | None, maximum: float | None) -> None:
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}.")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, got {value}.")
