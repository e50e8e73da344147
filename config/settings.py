"""Cutline settings: one module, every knob read from the environment (see README "Configuration")."""

from __future__ import annotations

import hashlib
import shutil
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_float, env_int, env_list, env_redis_url, env_str
from config.storage import storage_backend_from_env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",  # first, so `runserver` serves ASGI (WebSockets) too
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "django_rq",
    "rest_framework",
    "rest_framework.authtoken",
    "corsheaders",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served by us: no CDN, works offline
    "projects",
    "jobs",
    "realtime",
]

MIDDLEWARE = [
    "corsheaders.middleware.CorsMiddleware",  # first: answers preflights before anything else runs
    "config.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.idempotency.IdempotencyKeyMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'cutline.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.postgresql":
    # A database that is down is noticed within seconds (503 DATABASE_UNAVAILABLE), not after the OS's timeout.
    _db.setdefault("OPTIONS", {})["connect_timeout"] = env_int("DATABASE_CONNECT_TIMEOUT", 3, minimum=1)
    # RQ forks a work horse per job; a pool created in the parent would hand the same sockets to the
    # child. Workers therefore connect per job, and the pool serves the long-lived web process.
    _is_rq_worker = len(sys.argv) > 1 and sys.argv[1] == "rqworker"
    if env_bool("DATABASE_POOL", not _is_rq_worker):
        _db.setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DATABASE_POOL_MIN", 1, minimum=0),
            "max_size": env_int("DATABASE_POOL_MAX", 10, minimum=1),
            "timeout": env_float("DATABASE_POOL_TIMEOUT", 10.0, minimum=0.1),
        }
        # The same backend with a pool that answers "database down" at once, not after that timeout.
        _db["ENGINE"] = "config.postgres"
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    # The zero-setup default: web and worker write concurrently, so use WAL and take the write lock
    # at BEGIN rather than failing mid-transaction with "database is locked".
    _db["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, sessions, queues, channel layer -----------------------------------------------------
REDIS_URL = env_redis_url("REDIS_URL", "redis://127.0.0.1:6379/0")
REDIS_TIMEOUT = env_float("REDIS_TIMEOUT", 1.0, minimum=0.05)

CACHES = {
    "default": {
        # Degrades to a miss when Redis is unreachable, so pages and the API keep answering.
        "BACKEND": "config.cache.ResilientRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "cutline"),
        "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT},
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

RENDER_JOB_TIMEOUT = env_int("RENDER_JOB_TIMEOUT", 2 * 60 * 60, minimum=10)
RQ_QUEUES = {
    "render": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": RENDER_JOB_TIMEOUT},
    "default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600},
}
# Cutline's worker: hands its job back on SIGTERM, stays registered through a Redis restart, tidies scratch.
RQ = {"WORKER_CLASS": "jobs.worker.CutlineWorker"}
RENDER_SCRATCH_TIDY_INTERVAL = env_float("RENDER_SCRATCH_TIDY_INTERVAL", 600.0, minimum=1.0)
# The queue dashboard is mounted by jobs/admin.py for superusers only.
RQ_SHOW_ADMIN_LINK = False

# Channel layer: chosen from measurement, see docs/realtime.md. The pub/sub layer is the default: no
# per-group capacity to overflow (the core layer silently drops group messages over `capacity`), cheaper
# group_send, and no blocking reads to collide with socket timeouts. `core` stays selectable, with the two
# redis-py 8 fixes it needs (socket_timeout above its 5 s blocking read, and a pool sized for bursts).
CHANNEL_LAYER = env_choice("CHANNEL_LAYER", "pubsub", ("pubsub", "core"))
# Redis pub/sub channels ignore the database number, so the prefix carries it: two deployments (or test
# runs) on one Redis server with different databases must not hear each other's `owner.<id>` groups.
_channel_prefix = f"cutline:{urlparse(REDIS_URL).path.strip('/') or '0'}:"
_channel_host = {
    "address": REDIS_URL,
    "socket_connect_timeout": env_float("CHANNEL_LAYER_CONNECT_TIMEOUT", 2.0, minimum=0.1),
    "socket_keepalive": True,
}
if CHANNEL_LAYER == "pubsub":
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [_channel_host], "prefix": _channel_prefix},
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        **_channel_host,
                        "socket_timeout": 10.0,  # > the layer's 5 s BZPOPMIN, or idle consumers die (1011)
                        "max_connections": env_int("CHANNEL_LAYER_MAX_CONNECTIONS", 1000, minimum=10),
                    }
                ],
                "prefix": _channel_prefix,
                "capacity": env_int("CHANNEL_LAYER_CAPACITY", 100, minimum=10),
                "expiry": env_int("CHANNEL_LAYER_EXPIRY", 60, minimum=5),
                "group_expiry": env_int("CHANNEL_LAYER_GROUP_EXPIRY", 86400, minimum=60),
            },
        }
    }
# How often each web process checks the database for events its sockets and streams have not seen
# (a group message lost while Redis restarted), and refreshes its entries in the shared socket count.
REALTIME_RESYNC_INTERVAL = env_float("REALTIME_RESYNC_INTERVAL", 10.0, minimum=0.5)
REALTIME_SSE_KEEPALIVE = env_float("REALTIME_SSE_KEEPALIVE", 15.0, minimum=0.5, maximum=15.0)
# How long a stopping web process (SIGTERM) waits for requests in flight after closing sockets with 1012.
WEB_STOP_GRACE = env_float("WEB_STOP_GRACE", 8.0, minimum=0.5, maximum=60.0)
WEB_WS_HANDSHAKE_TIMEOUT = env_float("WEB_WS_HANDSHAKE_TIMEOUT", 30.0, minimum=1.0)
# Python's cyclic GC in the web process: see config/asgi.py and docs/realtime.md (0 keeps Python's default).
WEB_GC_GEN0_THRESHOLD = env_int("WEB_GC_GEN0_THRESHOLD", 100000, minimum=0)

# --- Auth and API ---------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an API client without credentials then gets 401 with WWW-Authenticate.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": env_int("API_PAGE_SIZE", 50, minimum=1, maximum=1000),
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.CutlineJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["config.throttling.ApiReadThrottle", "config.throttling.ApiWriteThrottle"],
}
# Requests per user (or per address when anonymous) and per address for password attempts; counted in
# the Redis cache. "<n>/<second|minute|hour|day>"; an empty value switches that throttle off.
API_THROTTLE_RATES = {
    "read": env_str("API_THROTTLE_READ", "1200/minute") or None,
    "write": env_str("API_THROTTLE_WRITE", "300/minute") or None,
    "auth": env_str("API_THROTTLE_AUTH", "10/minute") or None,
}
for _scope, _rate in API_THROTTLE_RATES.items():
    try:
        _count, _period = (_rate or "1/s").split("/")
        if int(_count) < 1 or _period[:1] not in ("s", "m", "h", "d"):
            raise ValueError
    except ValueError:
        raise ImproperlyConfigured(
            f"API_THROTTLE_{_scope.upper()} must look like 300/minute (a count per second, minute, hour or day), "
            f"got {_rate!r}."
        ) from None

# CORS (django-cors-headers), off by default: list the SPA origins allowed to call /api/ from a browser.
# Credentials are not allowed cross-origin; an SPA sends `Authorization: Token ...`.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", [])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_CREDENTIALS = False
CORS_EXPOSE_HEADERS = ["ETag", "Retry-After", "Content-Range", "Content-Disposition"]
SPECTACULAR_SETTINGS = {
    "TITLE": "Cutline API",
    "DESCRIPTION": "Projects, media, render jobs and their live progress.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Error bodies, the SSE endpoint and the realtime events (config/openapi.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.openapi.postprocess",
        "config.idempotency.openapi_idempotency_header",
    ],
}

# --- Media and static files -----------------------------------------------------------------------------
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"  # never served directly: files go out through owner-checked API views
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STORAGES = {
    # Local files under MEDIA_ROOT, or S3-compatible object storage: see config/storage.py.
    "default": storage_backend_from_env(),
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Object storage only: downloads answer 302 to a presigned URL of the object (valid this many seconds)
# instead of streaming through the web process. The storage endpoint must then be reachable by clients.
STORAGE_PRESIGNED_DOWNLOADS = env_bool("STORAGE_PRESIGNED_DOWNLOADS", False)
STORAGE_PRESIGNED_EXPIRY = env_int("STORAGE_PRESIGNED_EXPIRY", 300, minimum=1, maximum=7 * 24 * 3600)
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

MEDIA_MAX_UPLOAD_MB = env_int("MEDIA_MAX_UPLOAD_MB", 500, minimum=1)
MEDIA_PROBE_TIMEOUT = env_float("MEDIA_PROBE_TIMEOUT", 30.0, minimum=1.0)
MEDIA_FFPROBE_PATH = env_str("MEDIA_FFPROBE_PATH", shutil.which("ffprobe") or "/usr/bin/ffprobe")
# The ffmpeg for previews and renders; empty: the static build bundled with imageio-ffmpeg (config/tools.py).
FFMPEG_PATH = env_str("FFMPEG_PATH", "")
MEDIA_FILMSTRIP_FRAMES = env_int("MEDIA_FILMSTRIP_FRAMES", 10, minimum=1, maximum=50)
# Resumable (tus) uploads: the most one PATCH may carry, and how long an untouched unfinished upload is kept.
UPLOAD_MAX_CHUNK_MB = env_int("UPLOAD_MAX_CHUNK_MB", 8, minimum=1, maximum=64)
UPLOAD_EXPIRY_HOURS = env_int("UPLOAD_EXPIRY_HOURS", 24, minimum=1)
# Uploads larger than this go to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Timeline limits (CONTRACT §2) ----------------------------------------------------------------------
TIMELINE_MAX_TRACKS = env_int("TIMELINE_MAX_TRACKS", 16, minimum=1)
TIMELINE_MAX_CLIPS = env_int("TIMELINE_MAX_CLIPS", 500, minimum=1)
TIMELINE_MAX_DURATION = env_float("TIMELINE_MAX_DURATION", 3600.0, minimum=1.0)
TIMELINE_MAX_WIDTH = env_int("TIMELINE_MAX_WIDTH", 3840, minimum=16)
TIMELINE_MAX_HEIGHT = env_int("TIMELINE_MAX_HEIGHT", 2160, minimum=16)

# --- Rendering and jobs ---------------------------------------------------------------------------------
RENDER_PATH = env_choice("RENDER_PATH", "auto", ("auto", "ffmpeg", "moviepy", "segmented"))
# Segmented render, segment cache, smart render and segment-parallel parts (docs/rendering.md).
RENDER_SEGMENT_SECONDS = env_float("RENDER_SEGMENT_SECONDS", 4.0, minimum=0.5)
RENDER_SEGMENT_CACHE_MB = env_int("RENDER_SEGMENT_CACHE_MB", 4096, minimum=0)
RENDER_SMART = env_bool("RENDER_SMART", True)
# Fan a job's uncached segments out to idle workers when at least this many seconds are left to encode.
RENDER_PARTS = env_bool("RENDER_PARTS", True)
RENDER_PARTS_MIN_SECONDS = env_float("RENDER_PARTS_MIN_SECONDS", 8.0, minimum=0.0)
# x264 threads of each segment encoder while a job's segments are encoded by several workers at once (a
# segment encoded alone, or the single graph, uses RENDER_THREADS).
RENDER_PART_THREADS = env_int("RENDER_PART_THREADS", 1, minimum=1)
RENDER_THREADS = env_int("RENDER_THREADS", 2, minimum=1)
RENDER_HEARTBEAT_TIMEOUT = env_int("RENDER_HEARTBEAT_TIMEOUT", 60, minimum=5)
RENDER_MAX_ATTEMPTS = env_int("RENDER_MAX_ATTEMPTS", 3, minimum=1)
RENDER_RESULT_TTL_DAYS = env_int("RENDER_RESULT_TTL_DAYS", 30, minimum=1)
RENDER_MAX_ACTIVE_JOBS_PER_USER = env_int("RENDER_MAX_ACTIVE_JOBS_PER_USER", 5, minimum=1)
RENDER_CANCEL_GRACE = env_float("RENDER_CANCEL_GRACE", 10.0, minimum=1.0)
# How often a running render touches `heartbeat_at` (a thread in the work horse), and how often the
# sweeper (`manage.py sweep_jobs`) looks for lost workers, overdue cancels and unqueued jobs.
RENDER_HEARTBEAT_INTERVAL = env_float("RENDER_HEARTBEAT_INTERVAL", 5.0, minimum=0.2, maximum=10.0)
RENDER_SWEEP_INTERVAL = env_float("RENDER_SWEEP_INTERVAL", 5.0, minimum=0.2)
# Local scratch space for renders in progress (one directory per job attempt, removed on every exit).
RENDER_WORK_DIR = Path(env_str("RENDER_WORK_DIR", str(VAR_DIR / "render-work")))
# Inputs fetched from object storage, kept by content hash for the next render on this machine (LRU, bounded).
RENDER_INPUT_CACHE_DIR = Path(env_str("RENDER_INPUT_CACHE_DIR", str(VAR_DIR / "input-cache")))
RENDER_INPUT_CACHE_MB = env_int("RENDER_INPUT_CACHE_MB", 2048, minimum=0)

# --- Realtime -------------------------------------------------------------------------------------------
REALTIME_TICKET_TTL = env_int("REALTIME_TICKET_TTL", 60, minimum=5)
REALTIME_REDIS_MAX_CONNECTIONS = env_int("REALTIME_REDIS_MAX_CONNECTIONS", 50, minimum=2)
REALTIME_MAX_SOCKETS_PER_USER = env_int("REALTIME_MAX_SOCKETS_PER_USER", 20, minimum=1)
# Open SSE streams per user, across every web process (429 `TOO_MANY_STREAMS` beyond it).
REALTIME_MAX_SSE_PER_USER = env_int("REALTIME_MAX_SSE_PER_USER", 20, minimum=1)
REALTIME_PROGRESS_MAX_PER_SECOND = env_float("REALTIME_PROGRESS_MAX_PER_SECOND", 4.0, minimum=0.1)

# --- Automation: webhooks, idempotency, JWT, metrics (docs/automation.md) ------------------------------
# Deliveries refuse loopback/private/link-local/reserved targets unless an address is in one of these
# networks (e.g. "127.0.0.1/32" for tests, "10.0.0.0/8" for an internal receiver).
WEBHOOK_ALLOWED_NETWORKS = env_list("WEBHOOK_ALLOWED_NETWORKS", [])
WEBHOOK_TIMEOUT = env_float("WEBHOOK_TIMEOUT", 5.0, minimum=0.1, maximum=30.0)
# Retries back off exponentially from this many seconds (x2 per attempt, capped at one hour) for 24 h.
WEBHOOK_RETRY_BASE = env_float("WEBHOOK_RETRY_BASE", 5.0, minimum=0.05)
WEBHOOK_RETRY_FOR = env_float("WEBHOOK_RETRY_FOR", 24 * 3600.0, minimum=1.0)
# An endpoint whose deliveries failed this many attempts in a row (no success between) is disabled.
WEBHOOK_DISABLE_AFTER = env_int("WEBHOOK_DISABLE_AFTER", 50, minimum=1)
WEBHOOK_MAX_ENDPOINTS_PER_USER = env_int("WEBHOOK_MAX_ENDPOINTS_PER_USER", 20, minimum=1)
IDEMPOTENCY_TTL = env_int("IDEMPOTENCY_TTL", 24 * 3600, minimum=60)
RENDER_BATCH_MAX_ITEMS = env_int("RENDER_BATCH_MAX_ITEMS", 100, minimum=1, maximum=1000)
# Jobs of batches count against this limit instead of RENDER_MAX_ACTIVE_JOBS_PER_USER.
RENDER_MAX_ACTIVE_BATCH_JOBS_PER_USER = env_int("RENDER_MAX_ACTIVE_BATCH_JOBS_PER_USER", 200, minimum=1)
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env_int("JWT_ACCESS_SECONDS", 300, minimum=10)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env_int("JWT_REFRESH_SECONDS", 7 * 24 * 3600, minimum=60)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    # Its own key, derived from SECRET_KEY unless set: long enough for HS256 whatever SECRET_KEY's length.
    "SIGNING_KEY": env_str("JWT_SIGNING_KEY") or hashlib.sha256(f"cutline-jwt:{SECRET_KEY}".encode()).hexdigest(),
    "AUTH_HEADER_TYPES": ("Bearer",),
}
# `/metrics` answers 404 unless enabled; with a token set it also wants `Authorization: Bearer <token>`.
METRICS_ENABLED = env_bool("METRICS_ENABLED", False)
METRICS_TOKEN = env_str("METRICS_TOKEN")

# --- Misc -----------------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOG_LEVEL = env_choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL.upper()},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    CSRF_COOKIE_SAMESITE = "Lax"
    SECURE_CONTENT_TYPE_NOSNIFF = True
