"""CollabDocs settings.

Every deployment knob is an environment variable read here, once, with an
embedded default so that ``make run`` works on a fresh machine with nothing
set: SQLite, the in-memory channel layer and a single-node ring.

==================  =========================================  =====================
Variable            Meaning                                    Default
==================  =========================================  =====================
DEBUG               Django debug mode                          on
SECRET_KEY          signing key; required when DEBUG is off    a development key
ALLOWED_HOSTS       comma-separated host names                 127.0.0.1,localhost
DATABASE_URL        e.g. postgres://user@host:5432/collabdocs  sqlite file db.sqlite3
REDIS_URL           e.g. redis://127.0.0.1:6379/0              none: in-memory layer
ZOOKEEPER_HOSTS     e.g. 127.0.0.1:2181                        none: single-node ring
ZOOKEEPER_ROOT      root znode of this deployment              /collabdocs
WORKER_URL          base URL this worker advertises            none: the request host
FRONT_DOOR_URL      public base URL of the balancer in front   none: sockets go to
                    of the workers                             workers' own URLs
LOG_LEVEL           lowest level logged                        INFO
COLLABDOCS_LOG_FORMAT  log lines: text, or json (one object    text
                    a line)
EMAIL_HOST          SMTP server for notification email         none: console backend
                    (EMAIL_PORT, EMAIL_HOST_USER, ... README)
COLLABDOCS_SITE_URL start of links in emails                   http://127.0.0.1:8000
SECURE_*            HTTPS: redirect, HSTS, proxy header        off (README)
SIGNUP_ENABLED      allow people to create accounts            on
==================  =========================================  =====================
"""

from __future__ import annotations

import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from collabdocs.env import env_bool, env_int, env_list, env_str
from collabdocs.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_rate(name: str, default: str) -> str:
    """Return a throttle rate such as ``10/5m`` (count / period in s, m, h or d)."""
    value = env_str(name, default).strip()
    if not re.fullmatch(r"[1-9]\d*/[1-9]?\d*[smhd]", value):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a rate such as 10/5m "
            "(a count, then / and a period in s, m, h or d)."
        )
    return value


DEBUG = env_bool("DEBUG", True)
_DEV_SECRET_KEY = "django-insecure-collabdocs-development-key-do-not-deploy"
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == _DEV_SECRET_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY: the development key is refused when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
# Origins besides the request's own that may POST (Django's CSRF check) and
# open sockets (collabdocs/origin.py): a front door, e.g. https://docs.example.com.
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# HTTPS (README "Deploying over HTTPS"). The defaults suit ``make run``
# (plain http on loopback); a production deploy sets these and
# ``manage.py check --deploy`` has nothing left to say.
# SECURE_PROXY_SSL_HEADER names the header a TLS-terminating proxy sets to
# "https" (X-Forwarded-Proto); set it only behind a proxy that overwrites
# the client's own copy of that header.
_PROXY_SSL_HEADER = env_str("SECURE_PROXY_SSL_HEADER", "")
if _PROXY_SSL_HEADER:
    SECURE_PROXY_SSL_HEADER = (
        "HTTP_" + _PROXY_SSL_HEADER.strip().upper().replace("-", "_"),
        "https",
    )
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# Balancer health checks and metric scrapes speak plain HTTP to the workers,
# and HAProxy would count a redirect as up.
SECURE_REDIRECT_EXEMPT = [r"^(healthz|readyz|metrics)$"]
# Cookies go over https only once the site redirects to https.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", SECURE_SSL_REDIRECT)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", SECURE_SSL_REDIRECT)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)

INSTALLED_APPS = [
    # daphne first: its runserver serves ASGI (HTTP and WebSocket).
    "daphne",
    # Before "channels", which ships a ``runworker`` of its own (a channel-layer
    # consumer runner): Django keeps the command of the app listed EARLIEST
    # (django/core/management/__init__.py, get_commands() walks the apps in
    # reverse and lets each earlier one overwrite the name), so
    # ``manage.py runworker`` is routing's, the product's worker. The check
    # collabdocs.E001 (collabdocs/checks.py) fails if this order changes.
    "routing",
    "teams",
    "documents",
    "images",
    "office",
    "notifications",
    "review",
    "realtime",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Full-text search on PostgreSQL (docs/search.md); inert on SQLite.
    "django.contrib.postgres",
    "guardian",
    "channels",
    # The composition root, last: its ready() wires the process once every
    # other app is ready (collabdocs/apps.py).
    "collabdocs.apps.CollabdocsConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # A strict Content-Security-Policy on every response (collabdocs/csp.py
    # says why each directive is what it is). Before WhiteNoise, which
    # answers static files itself, so that those carry it too.
    "collabdocs.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that its process_exception runs first: the site's 404, 403
    # and 500 pages even with DEBUG on, JSON errors under /api/
    # (collabdocs/errors.py).
    "collabdocs.errors.ErrorPagesMiddleware",
]

ROOT_URLCONF = "collabdocs.urls"
ASGI_APPLICATION = "collabdocs.asgi.application"

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
                "documents.context_processors.site",
                # The embed policy, for the editor's data- attributes.
                "collabdocs.csp.embed_policy",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=0,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several async consumers and the request thread share one file: wait for
    # the writer instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First: refuses every sign-in path while its throttle is used up.
    "documents.throttle.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row; links carry tokens

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"

# Throttles (documents/throttle.py, django-ratelimit). Counts live in the
# "throttle" cache: Redis when REDIS_URL is set, so a cluster counts as
# one; this process's memory otherwise (one daphne: ``make run``).
RATELIMIT_ENABLE = env_bool("COLLABDOCS_THROTTLE", True)
RATELIMIT_USE_CACHE = "throttle"
# A cache that answers nothing lets the request through (throttle.py says why).
RATELIMIT_FAIL_OPEN = True
# Behind a proxy every request comes from the proxy's address: name the
# header in which the proxy puts the client's one address (X-Real-IP), and
# make sure the proxy overwrites what the client sent. Unset: REMOTE_ADDR.
_CLIENT_IP_HEADER = env_str("COLLABDOCS_CLIENT_IP_HEADER", "")
if _CLIENT_IP_HEADER:
    RATELIMIT_IP_META_KEY = "HTTP_" + _CLIENT_IP_HEADER.strip().upper().replace("-", "_")
LOGIN_REDIRECT_URL = "documents:list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve straight from the finders (no collectstatic step for ``make run``).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Uploaded images (docs/images.md) go through Django's storage API: files
# under MEDIA_ROOT by default; COLLABDOCS_MEDIA_STORAGE=s3 stores them in any
# S3-compatible bucket through django-storages, configured by its own AWS_*
# environment variables (AWS_STORAGE_BUCKET_NAME, AWS_S3_ENDPOINT_URL,
# AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_S3_REGION_NAME). Files are
# never served from MEDIA_URL directly: images.views checks access first.
MEDIA_ROOT = Path(env_str("COLLABDOCS_MEDIA_ROOT", str(BASE_DIR / "media")))
_MEDIA_STORAGE = env_str("COLLABDOCS_MEDIA_STORAGE", "filesystem").strip().lower()
if _MEDIA_STORAGE not in ("filesystem", "s3"):
    raise ImproperlyConfigured("COLLABDOCS_MEDIA_STORAGE must be 'filesystem' or 's3'")
STORAGES = {
    "default": {
        "BACKEND": (
            "storages.backends.s3.S3Storage"
            if _MEDIA_STORAGE == "s3"
            else "django.core.files.storage.FileSystemStorage"
        ),
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if _MEDIA_STORAGE == "s3":
    # Private objects: every read goes through the access-checked view.
    AWS_DEFAULT_ACL = None
    AWS_QUERYSTRING_AUTH = True
    AWS_S3_FILE_OVERWRITE = False

REDIS_URL = env_str("REDIS_URL", "")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "throttle": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "collabdocs.throttle",
            # Fail fast when Redis is away: the throttle is skipped, not the request.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle"}
    ),
}
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # channels_redis receives with a 5 s blocking pop; redis-py 8
            # defaults the socket timeout to 5 s too, so every quiet consumer
            # died with TimeoutError. A longer, still bounded, read timeout
            # keeps quiet sockets open and still notices a dead Redis.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

ZOOKEEPER_HOSTS = env_str("ZOOKEEPER_HOSTS", "")
# Several deployments (or test runs) can share one ZooKeeper under their roots.
ZOOKEEPER_ROOT = env_str("ZOOKEEPER_ROOT", "/collabdocs")
WORKER_URL = env_str("WORKER_URL", "")
#: The balancer's public URL (docs/scaleout.md "The front door"): sockets are
#: sent through it to their document's owner instead of to workers' own URLs.
FRONT_DOOR_URL = env_str("FRONT_DOOR_URL", "")

COLLABDOCS = {
    "SIGNUP_ENABLED": env_bool("SIGNUP_ENABLED", True),
    # Throttles (documents/throttle.py): "count/period", period in s, m, h
    # or d ("10/5m"): failed sign-ins per username and IP, and per IP;
    # accounts created per IP; documents created per user.
    "THROTTLES": {
        "login": _env_rate("COLLABDOCS_THROTTLE_LOGIN", "10/5m"),
        "login_ip": _env_rate("COLLABDOCS_THROTTLE_LOGIN_IP", "50/5m"),
        "signup": _env_rate("COLLABDOCS_THROTTLE_SIGNUP", "10/h"),
        "document": _env_rate("COLLABDOCS_THROTTLE_DOCUMENT", "60/10m"),
        # New comment threads and replies per person (review/throttle.py).
        "comment": _env_rate("COLLABDOCS_THROTTLE_COMMENT", "120/10m"),
        # Image uploads and copies per person (images/throttle.py).
        "image": _env_rate("COLLABDOCS_THROTTLE_IMAGE", "200/10m"),
        # Password reset emails asked for per email address, and per IP
        # (documents/password_reset.py).
        "password_reset": _env_rate("COLLABDOCS_THROTTLE_PASSWORD_RESET", "3/h"),
        "password_reset_ip": _env_rate("COLLABDOCS_THROTTLE_PASSWORD_RESET_IP", "20/h"),
        # The share dialog's people search, and teams created, per person
        # (teams/throttle.py).
        "people": _env_rate("COLLABDOCS_THROTTLE_PEOPLE", "300/5m"),
        "team": _env_rate("COLLABDOCS_THROTTLE_TEAM", "20/h"),
    },
    # DEBUG only: Django's traceback page for a crash instead of the site's
    # 500 page (collabdocs/errors.py; the traceback is logged either way).
    "DEBUG_TRACEBACKS": env_bool("COLLABDOCS_DEBUG_TRACEBACKS", False),
    "TITLE_MAX_LENGTH": 200,
    # Realtime limits (protocol.md): client frame size, document size in UTF-16
    # code units, ops per second per socket, sockets per user.
    # /readyz: the longest wait for the database's SELECT 1 (collabdocs/health.py).
    "READY_DB_SECONDS": env_int("COLLABDOCS_READY_DB_SECONDS", 2, minimum=1),
    # Who may read /metrics (CIDRs); anyone else gets a 404.
    "METRICS_ALLOW": env_list("COLLABDOCS_METRICS_ALLOW", ["127.0.0.0/8", "::1/128"]),
    "MAX_FRAME_BYTES": env_int("COLLABDOCS_MAX_FRAME_BYTES", 512 * 1024, minimum=1024),
    "MAX_DOC_LENGTH": env_int("COLLABDOCS_MAX_DOC_LENGTH", 1_048_576, minimum=16),
    "OPS_PER_SECOND": env_int("COLLABDOCS_OPS_PER_SECOND", 50, minimum=1),
    "SOCKETS_PER_USER": env_int("COLLABDOCS_SOCKETS_PER_USER", 20, minimum=1),
    # An op on a socket whose session and access were last checked longer
    # ago than this re-checks them first (revocation without the layer).
    "ACCESS_RECHECK_SECONDS": env_int("COLLABDOCS_ACCESS_RECHECK_SECONDS", 30, minimum=1),
    # The cost budget (protocol.md "Limits"): ops in one change, formatting
    # runs one change may reformat or delete (both too_large), and the CPU
    # milliseconds per second a socket and a user (all their sockets on this
    # worker) may spend, with bursts of CPU_BURST_MS (rate_limited).
    "MAX_CHANGE_OPS": env_int("COLLABDOCS_MAX_CHANGE_OPS", 1000, minimum=2),
    "MAX_CHANGE_RUNS": env_int("COLLABDOCS_MAX_CHANGE_RUNS", 10000, minimum=1),
    "SOCKET_CPU_MS_PER_SECOND": env_int("COLLABDOCS_SOCKET_CPU_MS_PER_SECOND", 100, minimum=1),
    "USER_CPU_MS_PER_SECOND": env_int("COLLABDOCS_USER_CPU_MS_PER_SECOND", 150, minimum=1),
    "CPU_BURST_MS": env_int("COLLABDOCS_CPU_BURST_MS", 20, minimum=1),
    # Ops kept in memory per open document for catch-up and transformation.
    "OP_WINDOW": env_int("COLLABDOCS_OP_WINDOW", 1000, minimum=10),
    # Seconds an authority stays in memory after its last socket closes.
    "IDLE_UNLOAD_SECONDS": env_int("COLLABDOCS_IDLE_UNLOAD_SECONDS", 60, minimum=0),
    # History and compaction (docs/history.md): the owner folds the op log
    # into a snapshot once this many ops follow it, keeps the last
    # COMPACT_KEEP_OPS ops for reconnecting clients, and holds a lease of
    # LEASE_SECONDS (renewed while open) so compact_docs skips open documents.
    "COMPACT_THRESHOLD_OPS": env_int("COLLABDOCS_COMPACT_THRESHOLD_OPS", 1000, minimum=1),
    "COMPACT_KEEP_OPS": env_int("COLLABDOCS_COMPACT_KEEP_OPS", 500, minimum=0),
    # Compaction also keeps every op younger than this many days, so that a
    # client offline that long rebases its unsaved edits (docs/history.md).
    "RETENTION_DAYS": env_int("COLLABDOCS_RETENTION_DAYS", 7, minimum=0),
    "COMPACT_IDLE_MINUTES": env_int("COLLABDOCS_COMPACT_IDLE_MINUTES", 10, minimum=0),
    "LEASE_SECONDS": env_int("COLLABDOCS_LEASE_SECONDS", 120, minimum=3),
    # Version quotas (docs/history.md): named and restored versions are full
    # copies made on a person's request, so a document keeps at most this
    # many of them, taking at most this many bytes of JSON in all.
    "MAX_NAMED_VERSIONS": env_int("COLLABDOCS_MAX_NAMED_VERSIONS", 100, minimum=1),
    "MAX_VERSION_BYTES": env_int("COLLABDOCS_MAX_VERSION_BYTES", 50 * 1024 * 1024, minimum=1024),
    # What else compact_docs must hold besides the database guard (cluster
    # mode: the document's ZooKeeper lock); see documents.compaction.
    "DOCUMENT_GUARD": env_str(
        "COLLABDOCS_DOCUMENT_GUARD",
        "routing.locks.ZooKeeperGuard" if ZOOKEEPER_HOSTS else "documents.compaction.DatabaseGuard",
    ),
    # Scale-out (docs/scaleout.md). A worker whose ZooKeeper session expires
    # loses its documents: ZK_SESSION_TIMEOUT (seconds) is how long a dead
    # worker's documents wait before they move (4 s: failover within 5 s;
    # the lowest ZooKeeper's default tickTime of 2 s grants; a worker stops
    # accepting ops a quarter of it earlier, see routing/lease.py).
    # runworker gives up on ZooKeeper after ZK_CONNECT_TIMEOUT at start; a
    # new owner waits up to LOCK_WAIT_SECONDS for a document's lock; workers
    # publish their open documents every WORKER_STATS_SECONDS and take up to
    # DRAIN_SECONDS to hand their documents over when stopped.
    "ZK_SESSION_TIMEOUT": env_int("COLLABDOCS_ZK_SESSION_TIMEOUT", 4, minimum=2),
    "ZK_CONNECT_TIMEOUT": env_int("COLLABDOCS_ZK_CONNECT_TIMEOUT", 10, minimum=1),
    "LOCK_WAIT_SECONDS": env_int("COLLABDOCS_LOCK_WAIT_SECONDS", 30, minimum=1),
    "WORKER_STATS_SECONDS": env_int("COLLABDOCS_WORKER_STATS_SECONDS", 5, minimum=1),
    "DRAIN_SECONDS": env_int("COLLABDOCS_DRAIN_SECONDS", 20, minimum=1),
    # Embeds (docs/schema.md, realtime.content_policy): an image is a
    # same-origin path under IMAGE_PATH_PREFIX (uploads come later) or a
    # data:image URL of at most IMAGE_DATA_MAX_BYTES characters; a video is an
    # https URL on one of VIDEO_HOSTS (comma-separated; none by default, so no
    # video embeds at all).
    "IMAGE_PATH_PREFIX": env_str("COLLABDOCS_IMAGE_PATH_PREFIX", "/media/"),
    "IMAGE_DATA_MAX_BYTES": env_int("COLLABDOCS_IMAGE_DATA_MAX_BYTES", 256 * 1024, minimum=0),
    "VIDEO_HOSTS": [host.lower() for host in env_list("COLLABDOCS_VIDEO_HOSTS", [])],
    # Uploaded images (images app, docs/images.md): accepted types (Pillow
    # format names), the largest upload, the most pixels a decoded image may
    # have (the decompression-bomb guard), and storage quotas per document and
    # per uploading user, in bytes of stored (re-encoded) files.
    "IMAGE_TYPES": env_list("COLLABDOCS_IMAGE_TYPES", ["PNG", "JPEG", "GIF", "WEBP"]),
    "IMAGE_MAX_BYTES": env_int("COLLABDOCS_IMAGE_MAX_BYTES", 10 * 1024 * 1024, minimum=1024),
    "IMAGE_MAX_PIXELS": env_int("COLLABDOCS_IMAGE_MAX_PIXELS", 40_000_000, minimum=1),
    "IMAGE_DOC_QUOTA_BYTES": env_int(
        "COLLABDOCS_IMAGE_DOC_QUOTA_BYTES", 200 * 1024 * 1024, minimum=0
    ),
    "IMAGE_USER_QUOTA_BYTES": env_int(
        "COLLABDOCS_IMAGE_USER_QUOTA_BYTES", 1024 * 1024 * 1024, minimum=0
    ),
    # Printed exports (PDF, DOCX, ODT; docs/office.md): A4 or Letter.
    "EXPORT_PAGE_SIZE": env_str("COLLABDOCS_EXPORT_PAGE_SIZE", "A4"),
    # Office import (office app, docs/office.md): the largest file accepted,
    # and the most bytes its zip members may expand to (the zip-bomb guard).
    "IMPORT_MAX_BYTES": env_int("COLLABDOCS_IMPORT_MAX_BYTES", 20 * 1024 * 1024, minimum=1024),
    "IMPORT_MAX_EXPANDED_BYTES": env_int(
        "COLLABDOCS_IMPORT_MAX_EXPANDED_BYTES", 200 * 1024 * 1024, minimum=1024
    ),
}

# Email and notifications (docs/notifications.md). Mail goes through
# django.core.mail: printed to the console unless EMAIL_HOST names an SMTP
# server (then EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD and
# EMAIL_USE_TLS or EMAIL_USE_SSL apply). EMAIL_BACKEND overrides the choice,
# e.g. django.core.mail.backends.filebased.EmailBackend with EMAIL_FILE_PATH
# (the browser tests read a separate daphne's mail that way). A server that
# does not answer within EMAIL_TIMEOUT seconds costs that email, never the
# change that caused it. SITE_URL (COLLABDOCS_SITE_URL) is how mail readers
# reach this site: the links in notification emails start with it.
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    (
        "django.core.mail.backends.smtp.EmailBackend"
        if EMAIL_HOST
        else "django.core.mail.backends.console.EmailBackend"
    ),
)
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Set EMAIL_USE_TLS or EMAIL_USE_SSL, not both.")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / "sent-mail"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "CollabDocs <collabdocs@localhost>")
SITE_URL = env_str("COLLABDOCS_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
if not re.fullmatch(r"https?://[^/\s]+(/[^\s]*)?", SITE_URL):
    raise ImproperlyConfigured(
        f"COLLABDOCS_SITE_URL={SITE_URL!r} is not a site address such as https://docs.example.com."
    )

# Logs (collabdocs/logs.py, docs/deploy.md "Logs"): one line per event on
# stderr; one JSON object per line when COLLABDOCS_LOG_FORMAT=json (time,
# level, logger, message, and the document, user and worker a line is
# about), text otherwise. A client that went away is one line, no traceback.
LOGGING = logging_config(
    fmt=env_str("COLLABDOCS_LOG_FORMAT", "text"), level=env_str("LOG_LEVEL", "INFO")
)
