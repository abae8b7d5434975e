"""Jinshao settings.

Everything that differs between the embedded demo and production is read from
the environment here, once, with typed defaults (see README "Production"):

- ``DATABASE_URL``: SQLite file under ``var/`` by default, PostgreSQL in production.
- ``REDIS_URL``: unset means local-memory cache (and, later, the in-memory
  channel layer); set means Redis for both.
- ``JINSHAO_DEMO``: the embedded demo (``bin/demo``): ``DEBUG`` on and
  per-machine random keys under ``var/``. Off by default: production-safe.
- ``SECRET_KEY``, ``JINSHAO_AUDIT_KEY``, ``JINSHAO_FIELD_KEY``: required, and
  different from each other, outside the demo (``config.keys``).
"""

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from import_export.formats.base_formats import CSV, XLSX

from config import keys as config_keys
from core import logging as core_logging
from core.dates import parse_working_hours

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Production-safe unless asked: the demo (bin/demo) exports JINSHAO_DEMO=1,
# which turns DEBUG on and makes per-machine random keys under var/.
JINSHAO_DEMO = env.bool("JINSHAO_DEMO", default=False)
DEBUG = env.bool("DEBUG", default=JINSHAO_DEMO)

VAR_DIR = Path(env.str("JINSHAO_VAR_DIR", default=str(BASE_DIR / "var")))

# Three separate keys, none falling back to another (config.keys): Django's,
# the audit log's (JINSHAO_AUDIT_KEY) and the field encryption's
# (JINSHAO_FIELD_KEY). Start-up refuses a missing, short, published or shared one.
_keys = {name: env.str(name, default="") for name in config_keys.NAMES}
if JINSHAO_DEMO:
    _keys = {name: _keys[name] or made for name, made in config_keys.demo_keys(VAR_DIR).items()}
config_keys.check(_keys)
SECRET_KEY = _keys["SECRET_KEY"]
JINSHAO_AUDIT_KEY = _keys["JINSHAO_AUDIT_KEY"]
JINSHAO_FIELD_KEY = _keys["JINSHAO_FIELD_KEY"]

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_fsm",
    "import_export",
    "rest_framework",
    "rest_framework_simplejwt",  # its messages in Chinese
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "accounts",
    "grids",
    "departments",
    "templates.apps.CaseTemplatesConfig",
    "cases",
    "ratings",
    "notifications",
    "chat",
    "analytics",
    "integrations",
    "audit",
    "idempotency",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]

MIDDLEWARE = [
    # First: the request id (X-Request-ID) and one log line per request (core.requestlog).
    "core.requestlog.RequestIdMiddleware",
    # Then: times and counts every request by its URL pattern (core.metrics).
    "core.metrics.MetricsMiddleware",
    # Outermost: the build's files answer without Vary (core.app_shell).
    "core.app_shell.BuildFilesVaryMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # A NUL in a path or a query string, refused before any view reads it (core.text).
    "core.api.middleware.RefusedCharactersMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "accounts.middleware.SessionLimitsMiddleware",
    "accounts.middleware.ExpiredPasswordMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    # Last: replaces the answer to a locked-out login attempt (accounts.lockout).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

# GET /metrics (core.views_metrics): Prometheus may scrape from these addresses or
# networks, or from anywhere with "Authorization: Bearer <JINSHAO_METRICS_TOKEN>";
# anyone else gets a 404. Several processes: set PROMETHEUS_MULTIPROC_DIR in the
# environment (emptied before they start; docs/deploy.md).
JINSHAO_METRICS_ALLOWED_ADDRESSES = env.list(
    "JINSHAO_METRICS_ALLOWED_ADDRESSES", default=["127.0.0.1", "::1"]
)
JINSHAO_METRICS_TOKEN = env.str("JINSHAO_METRICS_TOKEN", default="")

# App templates only: the root ``templates`` package is the case-template app,
# never a template directory (DESIGN.md).
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'jinshao.sqlite3'}"),
}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a writer instead of failing at once when two requests write together.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("timeout", 20)
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
else:
    # Each process keeps a pool of open connections (psycopg_pool through Django's
    # "pool" option): a request borrows one and gives it back at its end, so no request
    # pays for a new PostgreSQL backend (connect, authenticate, warm the catalogue cache)
    # and a process never holds more than JINSHAO_DB_POOL_MAX connections, however many
    # threads uvicorn runs Django's code on (docs/deploy.md, "Scaling"). A request that
    # waits JINSHAO_DB_POOL_TIMEOUT seconds for a free connection fails with a server
    # error (the phone's outbox sends it again later).
    # JINSHAO_DB_POOL_MAX=0 turns the pool off: then CONN_MAX_AGE applies as before.
    _pool_max = env.int("JINSHAO_DB_POOL_MAX", default=8)
    if _pool_max > 0:
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps them; Django must not
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(2, _pool_max),
            "max_size": _pool_max,
            "timeout": env.float("JINSHAO_DB_POOL_TIMEOUT", default=10.0),
        }
    else:
        DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    # A transaction left open by a crashed or stuck worker would hold its locks
    # until the connection dies, and every writer of those rows would queue behind
    # it: PostgreSQL ends such a session after this long idle inside a transaction
    # (milliseconds; 0 turns it off). A lock wait longer than JINSHAO_PG_LOCK_TIMEOUT
    # (ms; 0, the default, waits as long as it takes) fails the statement instead.
    _pg_limits = {
        "idle_in_transaction_session_timeout": env.int(
            "JINSHAO_PG_IDLE_IN_TRANSACTION_TIMEOUT", default=300_000
        ),
        "lock_timeout": env.int("JINSHAO_PG_LOCK_TIMEOUT", default=0),
    }
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "options", " ".join(f"-c {name}={value}" for name, value in _pg_limits.items())
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # One pool of Redis connections per process (core.cache): Django makes a
            # cache object per request under ASGI, and each would open its own.
            "OPTIONS": {"pool_class": "core.cache.SharedConnectionPool"},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Live sockets (Django Channels): Redis when REDIS_URL is set, so every server
# process reaches every socket; in memory otherwise (one process: the demo).
ASGI_APPLICATION = "config.asgi.application"
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # A socket waits for its messages with a blocking pop of up to 5 s
                # (channels_redis' brpop_timeout); redis-py 8 reads with a 5 s socket
                # timeout by default, so every socket idle for 5 s failed its read
                # ("Timeout reading") and left and rejoined its groups, missing what
                # was sent meanwhile. The read must outlast the pop.
                "hosts": [
                    {"address": REDIS_URL, "socket_timeout": 15, "socket_connect_timeout": 5}
                ],
                "prefix": env.str("CHANNEL_LAYER_PREFIX", default="jinshao"),
                "capacity": 1000,
                "expiry": 60,
                "group_expiry": 86400,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "name", "email")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.validators.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
]

# How many proxies in front of the app append to X-Forwarded-For (0: trust
# REMOTE_ADDR only). The one notion of the client's address (core.client):
# the API's throttles, the lock-out and the audit log all use it.
JINSHAO_TRUSTED_PROXIES = env.int("JINSHAO_TRUSTED_PROXIES", default=0)

# Lock-out after repeated failures (django-axes): by username and address
# together, so nobody can lock an official out from elsewhere. The address
# is the audit log's and the throttles' (core.client).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # The permissions of a person's roles (accounts.backends): no role, no permission.
    "accounts.backends.RolePermissionBackend",
]
AXES_FAILURE_LIMIT = env.int("JINSHAO_LOCKOUT_FAILURES", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("JINSHAO_LOCKOUT_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "core.client.client_address"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.locked_out"
AXES_VERBOSE = False
# Its log lines (JSON like the rest, core.logging) mask the username and the address.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address"]
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # every failure, for the security administrator

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))

# Uploaded chat attachments go through Django's storage API: local disk by
# default, S3-compatible object storage when MEDIA_S3_BUCKET is set (AWS_* and
# AWS_S3_ENDPOINT_URL as django-storages reads them). Never served publicly:
# the API streams each file to people who may read the case's room.
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if env.str("MEDIA_S3_BUCKET", default=""):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("MEDIA_S3_BUCKET"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env.str("AWS_S3_REGION_NAME", default=None),
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }

# The embedded demo serves static files from the ASGI app itself; production
# sets this off and lets the proxy serve STATIC_ROOT after collectstatic.
JINSHAO_SERVE_STATIC = env.bool("JINSHAO_SERVE_STATIC", default=DEBUG)
# The phone app's build (``npm run build`` in mobile/, run by bin/setup), served at
# the site root by core.app_shell: index.html and assets/.
JINSHAO_APP_DIR = Path(env.str("JINSHAO_APP_DIR", default=str(BASE_DIR / "mobile" / "dist")))

LOGIN_URL = "admin:login"

# Spreadsheets: import-export runs imports in one transaction and never skips
# a bad row silently.
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_FORMATS = [XLSX, CSV]
# Formula injection is escaped by core.spreadsheets (all of = + - @ tab CR, xlsx and csv);
# the library's own option only drops a leading "=".
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = False

# The phone API (/api/v1/): tokens for phones, the session for the browser;
# one error shape; cursor pages; throttled logins and writes.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.LoginJWTAuthentication",  # tokens end with their login
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.permissions.PasswordNotExpired",
        "accounts.permissions.SecondFactorDone",
    ],
    # drf-spectacular's, documenting the Idempotency-Key header where it is honoured.
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.AutoSchema",
    # DRF's parsers refusing text PostgreSQL cannot store (core.text), for every endpoint.
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.JSONParser",
        "core.api.parsers.FormParser",
        "core.api.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "login": env.str("JINSHAO_LOGIN_RATE", default="10/min"),
        "writes": env.str("JINSHAO_WRITE_RATE", default="120/min"),
    },
    # DRF's own address for any throttle not derived from core.api.throttles.AddressThrottle:
    # the same proxies as core.client (its default trusts any X-Forwarded-For).
    "NUM_PROXIES": JINSHAO_TRUSTED_PROXIES,
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.NewestFirstCursorPagination",
    "PAGE_SIZE": 20,
}
JINSHAO_MAX_PAGE_SIZE = env.int("JINSHAO_MAX_PAGE_SIZE", default=100)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Jinshao API",
    "DESCRIPTION": "The phone API of 金哨 (blocks call, lines respond).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # No internet on the machines: the docs' assets come from drf-spectacular-sidecar.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "CaseStateEnum": "cases.choices.CaseState",
        "InvitationStateEnum": "cases.choices.InvitationState",
        "EventKindEnum": "cases.choices.EventKind",
        "PriorityEnum": "templates.choices.Priority",
        "FieldKindEnum": "templates.choices.FieldKind",
        "DepartmentKindEnum": "departments.choices.DepartmentKind",
        "DepartmentLevelEnum": "departments.choices.DepartmentLevel",
        "NotificationKindEnum": "notifications.choices.NotificationKind",
    },
}

# Background work (Celery). With REDIS_URL, Redis is the broker: run
# `bin/worker` and `bin/beat` (README). Without it, tasks run in-process and
# the server process runs the periodic jobs (core.scheduler).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
# The daily figures' rebuild runs this many seconds after the change that queued it, and
# the changes meanwhile ride on that one run (analytics.facts.schedule_refresh); until it
# has run, readers read the changed days live. 0 queues a rebuild per change.
JINSHAO_FIGURES_REBUILD_DELAY_SECONDS = env.int("JINSHAO_FIGURES_REBUILD_DELAY_SECONDS", default=5)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a worker that dies mid-task leaves it for another
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # workers log through LOGGING (JSON) too
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BEAT_SCHEDULE = {
    "refresh-daily-figures": {  # a safety net: each change also schedules it on commit
        "task": "analytics.refresh_stale_days",
        "schedule": timedelta(seconds=env.int("JINSHAO_FIGURES_REFRESH_SECONDS", default=60)),
    },
    "sweep-deadlines": {
        "task": "cases.sweep_deadlines",
        "schedule": timedelta(seconds=env.int("JINSHAO_SWEEP_SECONDS", default=60)),
    },
    "flush-outbox": {
        "task": "integrations.flush_outbox",
        "schedule": timedelta(seconds=env.int("JINSHAO_OUTBOX_FLUSH_SECONDS", default=30)),
    },
    "sequence-audit": {
        "task": "audit.sequence",
        "schedule": timedelta(seconds=env.float("JINSHAO_AUDIT_SEQUENCE_SECONDS", default=2.0)),
    },
    "disable-inactive-accounts": {
        "task": "accounts.disable_inactive_accounts",
        "schedule": timedelta(hours=24),
    },
    "purge-idempotency-keys": {
        "task": "idempotency.purge_expired",
        "schedule": timedelta(hours=1),
    },
    "purge-expired-uploads": {  # photos uploaded for a case that was never raised
        "task": "cases.purge_expired_uploads",
        "schedule": timedelta(hours=1),
    },
}
JINSHAO_INPROCESS_SCHEDULER = env.bool("JINSHAO_INPROCESS_SCHEDULER", default=not REDIS_URL)
#: Seconds after start-up before the in-process scheduler's first run.
JINSHAO_SCHEDULER_DELAY_SECONDS = env.int("JINSHAO_SCHEDULER_DELAY_SECONDS", default=5)

# Intake from the city platform and the outbox of status changes sent back.
JINSHAO_INTAKE_WINDOW_SECONDS = env.int("JINSHAO_INTAKE_WINDOW_SECONDS", default=300)
JINSHAO_OUTBOX_TIMEOUT_SECONDS = env.int("JINSHAO_OUTBOX_TIMEOUT_SECONDS", default=10)
JINSHAO_OUTBOX_RETRY_SECONDS = env.int("JINSHAO_OUTBOX_RETRY_SECONDS", default=30)
JINSHAO_OUTBOX_MAX_DELAY_SECONDS = env.int("JINSHAO_OUTBOX_MAX_DELAY_SECONDS", default=600)

# Domain options, namespaced.
JINSHAO_CASE_NUMBER_PREFIX = env.str("JINSHAO_CASE_NUMBER_PREFIX", default="FX")
JINSHAO_RESPONSE_LIMIT_MINUTES = env.int("JINSHAO_RESPONSE_LIMIT_MINUTES", default=30)
# Supervision: escalate to the grid leader this long after a missed response
# deadline, and this long after a missed handling deadline.
JINSHAO_RESPONSE_ESCALATE_MINUTES = env.int("JINSHAO_RESPONSE_ESCALATE_MINUTES", default=30)
JINSHAO_OVERDUE_ESCALATE_HOURS = env.int("JINSHAO_OVERDUE_ESCALATE_HOURS", default=24)
# Count limits in working time (cases.deadlines), with the admin's holiday table.
JINSHAO_WORKING_CALENDAR = env.bool("JINSHAO_WORKING_CALENDAR", default=False)
# "HH:MM-HH:MM", 24:00 the end of the day; a malformed value stops start-up.
JINSHAO_WORKING_HOURS = env.str("JINSHAO_WORKING_HOURS", default="08:30-17:30")
parse_working_hours(JINSHAO_WORKING_HOURS)
JINSHAO_RATING_MIN_GROUP = env.int("JINSHAO_RATING_MIN_GROUP", default=5)
# The audit log's sequencer (audit.services.sequence_pending): requests only append
# pending records; beat chains them every JINSHAO_AUDIT_SEQUENCE_SECONDS (above), and
# each commit that wrote one kicks it: "inline" (in the committing process, leaving at
# once if another sequencer is busy: the embedded default), "task" (one Celery task,
# at most one a second per process: with a worker) or "off" (beat only).
JINSHAO_AUDIT_SEQUENCE_ON_COMMIT = env.str(
    "JINSHAO_AUDIT_SEQUENCE_ON_COMMIT", default="inline" if CELERY_TASK_ALWAYS_EAGER else "task"
)
if JINSHAO_AUDIT_SEQUENCE_ON_COMMIT not in ("inline", "task", "off"):
    raise ImproperlyConfigured("JINSHAO_AUDIT_SEQUENCE_ON_COMMIT: inline, task or off.")
JINSHAO_AUDIT_SEQUENCE_BATCH = env.int("JINSHAO_AUDIT_SEQUENCE_BATCH", default=500)
# A record may wait this long unchained before /health/ready turns red (0: no check).
JINSHAO_AUDIT_PENDING_MAX_SECONDS = env.float("JINSHAO_AUDIT_PENDING_MAX_SECONDS", default=10.0)
# JINSHAO_AUDIT_KEY and JINSHAO_FIELD_KEY are read with SECRET_KEY, at the top;
# JINSHAO_TRUSTED_PROXIES with the lock-out.
JINSHAO_SOCKET_TICKET_SECONDS = env.int("JINSHAO_SOCKET_TICKET_SECONDS", default=30)
# A pushed frame is forwarded only after the socket's right was re-checked from the
# database at most this many seconds before (0: before every pushed frame).
JINSHAO_SOCKET_RECHECK_SECONDS = env.float("JINSHAO_SOCKET_RECHECK_SECONDS", default=2.0)
# The operations-centre wall (analytics.wall): at most one push per area per this many
# seconds; a change inside the window is pushed at its end.
JINSHAO_WALL_PUSH_SECONDS = env.float("JINSHAO_WALL_PUSH_SECONDS", default=1.0)
# Chat rooms.
JINSHAO_CHAT_MAX_TEXT = env.int("JINSHAO_CHAT_MAX_TEXT", default=2000)
JINSHAO_CHAT_MAX_FRAME_BYTES = env.int("JINSHAO_CHAT_MAX_FRAME_BYTES", default=16 * 1024)
# Per connection: at most RATE frames per PER seconds; a socket that keeps
# going past the limit after STRIKES refusals is closed.
JINSHAO_CHAT_RATE = env.int("JINSHAO_CHAT_RATE", default=20)
JINSHAO_CHAT_RATE_PER = env.float("JINSHAO_CHAT_RATE_PER", default=10.0)
JINSHAO_CHAT_RATE_STRIKES = env.int("JINSHAO_CHAT_RATE_STRIKES", default=10)
JINSHAO_CHAT_PAGE = 100
# Largest upload per attachment kind, in bytes.
JINSHAO_UPLOAD_LIMITS = {
    "image": env.int("JINSHAO_UPLOAD_IMAGE_BYTES", default=10 * 1024 * 1024),
    "voice": env.int("JINSHAO_UPLOAD_VOICE_BYTES", default=5 * 1024 * 1024),
    "video": env.int("JINSHAO_UPLOAD_VIDEO_BYTES", default=50 * 1024 * 1024),
    "file": env.int("JINSHAO_UPLOAD_FILE_BYTES", default=20 * 1024 * 1024),
}
# Writes sent with an Idempotency-Key (core.api.idempotency): how long the answer is kept
# for a retry, and how long a duplicate waits for the first request still running.
JINSHAO_IDEMPOTENCY_KEY_HOURS = env.int("JINSHAO_IDEMPOTENCY_KEY_HOURS", default=24)
JINSHAO_IDEMPOTENCY_WAIT_SECONDS = env.float("JINSHAO_IDEMPOTENCY_WAIT_SECONDS", default=10.0)
# What one person may upload in any 24 hours.
JINSHAO_UPLOAD_QUOTA_BYTES = env.int("JINSHAO_UPLOAD_QUOTA_BYTES", default=500 * 1024 * 1024)
# A TrueType/OpenType font with Chinese glyphs for photo watermarks (e.g. Noto
# Sans CJK). Without one, the watermark names the sender by username.
JINSHAO_WATERMARK_FONT = env.str("JINSHAO_WATERMARK_FONT", default="") or None
# Handling limit in hours by priority, used when a case has no template limit.
JINSHAO_HANDLING_LIMIT_HOURS = {"low": 168, "normal": 72, "high": 24, "urgent": 4}
# Bounds on what strangers and big files can cost (issue 12, part 6; see docs/security.md).
# Intake and Open311: refusals of unauthenticated requests per client address and
# window; past the limit the address is answered 429 and counted in one row.
JINSHAO_INTAKE_REFUSALS_PER_ADDRESS = env.int("JINSHAO_INTAKE_REFUSALS_PER_ADDRESS", default=20)
JINSHAO_INTAKE_REFUSAL_WINDOW_SECONDS = env.int(
    "JINSHAO_INTAKE_REFUSAL_WINDOW_SECONDS", default=600
)
# From all addresses together, refusals kept one by one per window (then counted).
JINSHAO_INTAKE_KEPT_REFUSALS = env.int("JINSHAO_INTAKE_KEPT_REFUSALS", default=1000)
# What Open311's discovery document (/open311/discovery.json) says of this server:
# a contact, where a key is asked for, and whether it is "production" or "test".
JINSHAO_OPEN311_CONTACT = env.str("JINSHAO_OPEN311_CONTACT", default="")
JINSHAO_OPEN311_KEY_SERVICE = env.str("JINSHAO_OPEN311_KEY_SERVICE", default="")
JINSHAO_OPEN311_ENDPOINT_TYPE = env.str("JINSHAO_OPEN311_ENDPOINT_TYPE", default="production")
if JINSHAO_OPEN311_ENDPOINT_TYPE not in ("production", "test"):
    raise ImproperlyConfigured("JINSHAO_OPEN311_ENDPOINT_TYPE must be production or test.")
# Photos: the longest side kept (larger ones are stored scaled down), and how many
# images one server process decodes at once.
JINSHAO_IMAGE_MAX_SIDE = env.int("JINSHAO_IMAGE_MAX_SIDE", default=4096)
JINSHAO_IMAGE_WORKERS = env.int("JINSHAO_IMAGE_WORKERS", default=2)
# Spreadsheet imports: data rows, and bytes of an xlsx once unpacked.
JINSHAO_IMPORT_MAX_ROWS = env.int("JINSHAO_IMPORT_MAX_ROWS", default=10_000)
JINSHAO_IMPORT_MAX_UNPACKED_BYTES = env.int(
    "JINSHAO_IMPORT_MAX_UNPACKED_BYTES", default=50 * 1024 * 1024
)
# Health (issue 18; core.health, core.api.health). /health/live and /health/ready
# are never redirected to HTTPS (probes speak plain HTTP inside the network) and
# answer probes addressed to the loopback names below (Docker's healthcheck on
# 127.0.0.1), whatever ALLOWED_HOSTS says for the public names. Details of each
# check go only to these loopback/private addresses (or networks) or to a caller
# sending X-Health-Token equal to JINSHAO_HEALTH_TOKEN (unset: no token accepted).
SECURE_REDIRECT_EXEMPT = [r"^health/(live|ready)$"]
JINSHAO_HEALTH_HOSTS = env.list("JINSHAO_HEALTH_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
ALLOWED_HOSTS = [*ALLOWED_HOSTS, *(h for h in JINSHAO_HEALTH_HOSTS if h not in ALLOWED_HOSTS)]
JINSHAO_HEALTH_ALLOWED_ADDRESSES = env.list(
    "JINSHAO_HEALTH_ALLOWED_ADDRESSES", default=["127.0.0.1", "::1"]
)
JINSHAO_HEALTH_TOKEN = env.str("JINSHAO_HEALTH_TOKEN", default="")
# Each check's time limit, and how long one process reuses its last answer.
JINSHAO_HEALTH_TIMEOUT_SECONDS = env.float("JINSHAO_HEALTH_TIMEOUT_SECONDS", default=0.5)
JINSHAO_HEALTH_CACHE_SECONDS = env.float("JINSHAO_HEALTH_CACHE_SECONDS", default=1.5)
# Not ready past these lags (0: not checked): the oldest pending outbound message,
# and the time since the deadline sweep last finished.
JINSHAO_READY_OUTBOX_LAG_SECONDS = env.int("JINSHAO_READY_OUTBOX_LAG_SECONDS", default=3600)
JINSHAO_READY_SWEEP_LAG_SECONDS = env.int("JINSHAO_READY_SWEEP_LAG_SECONDS", default=600)

# Logs (core.logging): one JSON object per line on stdout, with the request id,
# phones and secrets masked; the demo writes readable lines (JINSHAO_LOG_FORMAT=text).
LOGGING = core_logging.logging_config(
    log_format=env.str("JINSHAO_LOG_FORMAT", default="text" if JINSHAO_DEMO else "json"),
    level=env.str("LOG_LEVEL", default="INFO"),
)
# Error reports to Sentry (or GlitchTip) only when SENTRY_DSN is set; no personal data.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
core_logging.init_sentry(
    dsn=SENTRY_DSN,
    environment=env.str("SENTRY_ENVIRONMENT", default="production"),
    release=env.str("SENTRY_RELEASE", default="") or None,
    traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
)

# Sessions (等保: idle timeout and absolute lifetime; accounts.middleware).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Two factors: always for administrators and the back office; also for these roles.
JINSHAO_2FA_ENFORCED = env.bool("JINSHAO_2FA_ENFORCED", default=True)
JINSHAO_2FA_ROLES = env.list("JINSHAO_2FA_ROLES", default=[])
OTP_TOTP_ISSUER = "Jinshao"
# The device admin never shows a secret (TOTP key, its QR code, recovery codes).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
JINSHAO_INACTIVE_DAYS = env.int("JINSHAO_INACTIVE_DAYS", default=90)
JINSHAO_PASSWORD_MAX_AGE_DAYS = env.int("JINSHAO_PASSWORD_MAX_AGE_DAYS", default=90)
JINSHAO_SESSION_IDLE_MINUTES = env.int("JINSHAO_SESSION_IDLE_MINUTES", default=30)
JINSHAO_SESSION_MAX_HOURS = env.int("JINSHAO_SESSION_MAX_HOURS", default=12)
SESSION_COOKIE_AGE = JINSHAO_SESSION_MAX_HOURS * 3600

# The map's background tiles (production only; this network has none): an XYZ
# template such as https://t{s}.tianditu.gov.cn/vec_w/wmts?...&TILEROW={y}&TILECOL={x}&TILEMATRIX={z}
# ({s} picks a subdomain 0-7 for 天地图) and the attribution the provider asks
# for. Empty (the default): no tiles, the map draws boundaries only. Sent to
# the app with the map's figures; the CSP's img-src lets in the tile host only
# when set.
JINSHAO_MAP_TILES_URL = env.str("JINSHAO_MAP_TILES_URL", default="")
JINSHAO_MAP_TILES_ATTRIBUTION = env.str("JINSHAO_MAP_TILES_ATTRIBUTION", default="")


def _tile_source(template: str) -> list[str]:
    """The CSP source of the tile template's host: ``https://t*.tianditu.gov.cn`` for a
    ``t{s}`` host (a wildcard for the subdomain), ``[]`` when unset."""
    if not template:
        return []
    from urllib.parse import urlsplit

    parts = urlsplit(template.replace("{s}", "SUBDOMAIN"))
    host = parts.hostname or ""
    if "subdomain" in host:
        host = "*." + host.split(".", 1)[1]
    return [f"{parts.scheme}://{host}"]


# Headers on every answer.
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content Security Policy (django-csp): scripts only from our own origin, never
# inline; nothing may frame the pages. The API docs page (Swagger UI) boots
# with an inline script and is exempted in config/urls.py.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", *_tile_source(JINSHAO_MAP_TILES_URL)],
        # Vant's icon font is a data: URL in its CSS; recorded voice plays from blob:.
        "font-src": ["'self'", "data:"],
        "media-src": ["'self'", "blob:"],
        "connect-src": ["'self'", "ws:", "wss:"],
        # The phone app's service worker (/sw.js) and web app manifest, both our own.
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
