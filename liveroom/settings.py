"""liveroom settings: one module, driven by the environment (see README, "Configuration")."""

import os
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name, default=None):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use on/off, true/false, 1/0).")


def env_int(name, default, *, minimum=None):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}.")
    return value


def env_choice(name, default, choices):
    value = os.environ.get(name) or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of: {', '.join(choices)}.")
    return value


def env_match(name, default, pattern, what):
    """A value of a given form (`pattern` must match all of it); `what` names the form in the error."""
    value = os.environ.get(name) or default
    if value is not None and not re.fullmatch(pattern, value):
        raise ImproperlyConfigured(f"{name}={value!r} is not {what}.")
    return value


HOST_PORT = r"([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(:[0-9]{1,5})?"
HTTP_URL = r"https?://\S+"
RATE = r"[0-9]+/(s|sec|second|m|min|minute|h|hour|d|day)"


def env_secret(name, dev_default):
    """A secret: required when DEBUG is off, a fixed development value otherwise."""
    value = os.environ.get(name)
    if value:
        return value
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(f"{name} must be set when DJANGO_DEBUG is off.")


DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = env_secret("DJANGO_SECRET_KEY", "dev-only-insecure-secret-key-for-liveroom")
ALLOWED_HOSTS = [
    h.strip() for h in env_str("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "rooms",
    "moderation",
    "callbacks",
    "livecloud",
    "xiaozhibo",
    "events",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "liveroom.urls"
WSGI_APPLICATION = "liveroom.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

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
                "events.context.events",
            ],
        },
    },
]

# Database: SQLite when DATABASE_URL is unset (embedded default for `make run`).
DATABASE_URL = env_match("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}", r"[a-z0-9+]+://.*", "a database URL")
try:
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0))
    }
except ValueError as exc:  # an unknown scheme, say
    raise ImproperlyConfigured(f"DATABASE_URL={DATABASE_URL!r} is not a database URL: {exc}") from None
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: optional. Without it counters live in the database and caches are per process.
REDIS_URL = env_match("REDIS_URL", None, r"(redis|rediss|unix)://.+", "a Redis URL (redis://host:port/db)")
REDIS_KEY_PREFIX = env_match("REDIS_KEY_PREFIX", "liveroom", r"[\w.:-]+", "a key prefix (letters, digits, _.:-)")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: Redis as broker when configured, else an embedded SQLite broker (no server needed).
CELERY_BROKER_URL = (
    env_match("CELERY_BROKER_URL", None, r"[a-z0-9+]+://.*", "a broker URL")
    or REDIS_URL
    or f"sqla+sqlite:///{BASE_DIR / 'celery-broker.sqlite3'}"
)
# The embedded broker hangs a prefork worker whose children are signalled with it (honcho's
# Ctrl-C), so there the worker runs threads (no task time limits); with a real broker, prefork.
CELERY_WORKER_POOL = "threads" if CELERY_BROKER_URL.startswith("sqla+") else "prefork"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 60, minimum=1)
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 15
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    # Moderation: timed bans lift themselves; unconfirmed or lapsing cloud forbids are sent again.
    "lift-expired-bans": {"task": "moderation.tasks.lift_expired_bans", "schedule": 60},
    "retry-unconfirmed-bans": {"task": "moderation.tasks.retry_unconfirmed_bans", "schedule": 300},
}

# Rooms and timings (seconds).
PUSH_URL_TTL = env_int("PUSH_URL_TTL", 24 * 3600, minimum=60)
PLAY_URL_TTL = env_int("PLAY_URL_TTL", 6 * 3600, minimum=60)
SWEEP_INTERVAL = env_int("SWEEP_INTERVAL", 60, minimum=1)
OFFLINE_STRIKES = env_int("OFFLINE_STRIKES", 3, minimum=1)
# At most this many DescribeLiveStreamState calls per sweep to confirm zombies before closing them.
ZOMBIE_CHECKS_PER_SWEEP = env_int("ZOMBIE_CHECKS_PER_SWEEP", 50, minimum=1)
RECONNECT_WINDOW = env_int("RECONNECT_WINDOW", 60, minimum=0)
PENDING_TTL = env_int("PENDING_TTL", 30 * 60, minimum=1)
COUNTER_FLUSH_INTERVAL = env_int("COUNTER_FLUSH_INTERVAL", 5, minimum=1)
CALLBACK_MAX_AHEAD = env_int("CALLBACK_MAX_AHEAD", 15 * 60, minimum=0)
CALLBACK_LOG_DAYS = env_int("CALLBACK_LOG_DAYS", 30, minimum=1)  # days the callback log is kept
ROOM_LIST_CACHE_TTL = env_int("ROOM_LIST_CACHE_TTL", 5, minimum=0)  # seconds a list page is cached (Redis); 0 = off

# Real-time events (SPEC §15)
EVENTS_URL = env_str("EVENTS_URL", "")  # where pages open their event streams ("" = this origin)
EVENTS_HEARTBEAT = env_int("EVENTS_HEARTBEAT", 15, minimum=1)  # seconds between keep-alive comments
EVENTS_RETRY_MS = env_int("EVENTS_RETRY_MS", 3000, minimum=100)  # the clients' reconnect delay
EVENTS_KEEP = env_int("EVENTS_KEEP", 500, minimum=10)  # events kept per channel for Last-Event-ID

# Beat: counts from Redis to the database (a no-op without Redis); a run that waited too long is dropped.
CELERY_BEAT_SCHEDULE["flush-counters"] = {
    "task": "rooms.tasks.flush_counters",
    "schedule": COUNTER_FLUSH_INTERVAL,
    "options": {"expires": COUNTER_FLUSH_INTERVAL},
}
# Beat: the zombie sweeper (SPEC §7); a pass that waited longer than one interval is dropped.
CELERY_BEAT_SCHEDULE["sweep-rooms"] = {
    "task": "rooms.tasks.sweep_rooms",
    "schedule": SWEEP_INTERVAL,
    "options": {"expires": SWEEP_INTERVAL},
}
# Beat: the callback log keeps CALLBACK_LOG_DAYS.
CELERY_BEAT_SCHEDULE["prune-callback-log"] = {"task": "callbacks.tasks.prune_callback_log", "schedule": 3600}
# A do-nothing API endpoint for `make bench` to compare against; never on otherwise.
BENCH_ENDPOINT = env_bool("BENCH_ENDPOINT", False)

# Web pages: how often the live list and the watch / studio pages poll the API (seconds).
WEB_LIST_REFRESH = env_int("WEB_LIST_REFRESH", 10, minimum=1)
WEB_ROOM_REFRESH = env_int("WEB_ROOM_REFRESH", 5, minimum=1)

# Tencent. Development defaults point at the local simulator (livecloud_simulator).
LIVE_CLOUD = env_choice("LIVE_CLOUD", "api3", ("api3", "legacy"))
TENCENT_SECRET_ID = env_secret("TENCENT_SECRET_ID", "AKIDdevsimulator")
TENCENT_SECRET_KEY = env_secret("TENCENT_SECRET_KEY", "dev-simulator-secret-key")
# Set but empty: Tencent's own host, in debug too.
TENCENT_LIVE_ENDPOINT = env_str("TENCENT_LIVE_ENDPOINT", "http://127.0.0.1:8100" if DEBUG else "") or None
if TENCENT_LIVE_ENDPOINT and not re.fullmatch(rf"https?://{HOST_PORT}/?", TENCENT_LIVE_ENDPOINT):
    raise ImproperlyConfigured(
        f"TENCENT_LIVE_ENDPOINT={TENCENT_LIVE_ENDPOINT!r} is not a base URL such as http://127.0.0.1:8100."
    )
TENCENT_LIVE_APPID = env_match("TENCENT_LIVE_APPID", "1250000000", r"[0-9]+", "a number")
TENCENT_LIVE_BIZID = env_match("TENCENT_LIVE_BIZID", "8888", r"[0-9]+", "a number")
TENCENT_LIVE_PUSH_DOMAIN = env_match("TENCENT_LIVE_PUSH_DOMAIN", "127.0.0.1:1935", HOST_PORT, "a host[:port]")
TENCENT_LIVE_PLAY_DOMAIN = env_match("TENCENT_LIVE_PLAY_DOMAIN", "127.0.0.1:8080", HOST_PORT, "a host[:port]")
# RTMP play needs an RTMP port. Tencent serves it on the play domain; with the simulator (an
# endpoint override) the local edge serves RTMP on the push domain's port, HLS on the play domain's.
TENCENT_LIVE_RTMP_PLAY_DOMAIN = env_match("TENCENT_LIVE_RTMP_PLAY_DOMAIN", None, HOST_PORT, "a host[:port]") or (
    TENCENT_LIVE_PUSH_DOMAIN if TENCENT_LIVE_ENDPOINT else TENCENT_LIVE_PLAY_DOMAIN
)
TENCENT_LIVE_PLAY_SCHEME = env_choice("TENCENT_LIVE_PLAY_SCHEME", "http" if DEBUG else "https", ("http", "https"))
TENCENT_LIVE_APP_NAME = env_match(
    "TENCENT_LIVE_APP_NAME", "live", r"[A-Za-z0-9_-]+", "an app name (letters, digits, _-)"
)
TENCENT_LIVE_PUSH_KEY = env_secret("TENCENT_LIVE_PUSH_KEY", "dev-push-key")
TENCENT_LIVE_PLAY_KEY = env_str("TENCENT_LIVE_PLAY_KEY", "") or None
TENCENT_LIVE_CALLBACK_KEY = env_secret("TENCENT_LIVE_CALLBACK_KEY", "dev-callback-key")
TENCENT_LIVE_API_KEY = (
    env_secret("TENCENT_LIVE_API_KEY", "dev-api-key")
    if LIVE_CLOUD == "legacy"
    else env_str("TENCENT_LIVE_API_KEY", "dev-api-key")
)
TENCENT_LIVE_TIMEOUT = env_int("TENCENT_LIVE_TIMEOUT", 5, minimum=1)
SIM_CALLBACK_URL = env_match("SIM_CALLBACK_URL", "http://127.0.0.1:8000/callbacks/tencent/", HTTP_URL, "an http(s) URL")

# Xiaozhibo: the original app protocol at /interface.php (no authentication: see README).
XIAOZHIBO_COMPAT = env_bool("XIAOZHIBO_COMPAT", False)

# REST API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "liveroom.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.ScopedRateThrottle"],
    # Throttles count per client address: X-Forwarded-For is read only behind this many proxies
    # of ours (DRF's default trusts whatever a client sends, so a throttle could be dodged).
    "NUM_PROXIES": env_int("DJANGO_NUM_PROXIES", 0, minimum=0),
    "DEFAULT_THROTTLE_RATES": {
        "auth": env_match("THROTTLE_AUTH", "30/min", RATE, "a rate such as 30/min"),
        "room_write": env_match("THROTTLE_ROOM_WRITE", "60/min", RATE, "a rate such as 60/min"),
        "counter": env_match("THROTTLE_COUNTER", "600/min", RATE, "a rate such as 600/min"),
    },
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

SPECTACULAR_SETTINGS = {
    "TITLE": "liveroom API",
    "DESCRIPTION": "Live-room list backend on Tencent Cloud Live.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # gzip copies made by collectstatic, served by WhiteNoise (hls.js shrinks to a third).
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Security with DEBUG off: session and CSRF cookies only over HTTPS (DJANGO_SECURE_COOKIES=off to try
# a production set-up over plain HTTP). Behind a proxy that ends TLS, DJANGO_BEHIND_HTTPS_PROXY=on
# trusts its X-Forwarded-Proto, so Django knows the request was HTTPS (the CSRF check needs it).
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
if env_bool("DJANGO_BEHIND_HTTPS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = [o.strip() for o in env_str("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0, minimum=0)

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/studio/"
LOGOUT_REDIRECT_URL = "/"

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_choice("LOG_LEVEL", "INFO", LOG_LEVELS)},
}
