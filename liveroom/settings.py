"""liveroom settings: one module, driven by the environment (see README, "Configuration")."""

import ipaddress
import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

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
    "monitoring",
    "events",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "monitoring.middleware.RequestMetricsMiddleware",
    "api.httpcache.CacheHeadersMiddleware",  # below WhiteNoise: static files keep their own headers
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # anonymous list / room / counter / Xiaozhibo requests skip what follows (api.hotpath)
    "api.hotpath.HotPathMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "api.errors.DependencyErrorsMiddleware",  # database / Redis unreachable: 503 JSON
]
if not env_bool("HOT_PATH", True):
    MIDDLEWARE.remove("api.hotpath.HotPathMiddleware")

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
        # A kept connection is checked before a request reuses it: a restart or failover costs no error.
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0), conn_health_checks=True
        )
    }
except ValueError as exc:  # an unknown scheme, say
    raise ImproperlyConfigured(f"DATABASE_URL={DATABASE_URL!r} is not a database URL: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # An unreachable server fails a request in seconds, not after the system's TCP timeout.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env_int(
        "DATABASE_CONNECT_TIMEOUT", 3, minimum=1
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: optional. Without it counters live in the database and caches are per process.
REDIS_URL = env_match("REDIS_URL", None, r"(redis|rediss|unix)://.+", "a Redis URL (redis://host:port/db)")
REDIS_KEY_PREFIX = env_match("REDIS_KEY_PREFIX", "liveroom", r"[\w.:-]+", "a key prefix (letters, digits, _.:-)")
# A Redis that does not answer costs a request at most this (connect and each reply), and is then
# not tried for REDIS_BREAKER_SECONDS (infra.breaker).
REDIS_SOCKET_TIMEOUT_MS = env_int("REDIS_SOCKET_TIMEOUT_MS", 250, minimum=1)
REDIS_BREAKER_SECONDS = env_int("REDIS_BREAKER_SECONDS", 5, minimum=1)


# Redis named by Sentinel (infra/sentinel.py): the primary of REDIS_SENTINEL_MASTER, as the
# sentinels say. REDIS_URL then gives only the database number and password (unset: database 0).
def _sentinels(raw):
    found = []
    for item in raw.split(","):
        match = re.fullmatch(HOST_PORT, item.strip())
        if not match:
            raise ImproperlyConfigured(f"REDIS_SENTINELS={raw!r} is not a list of host:port (10.0.0.5:26379,...).")
        found.append((match[1].strip("[]"), int((match[2] or ":26379")[1:])))
    return found


REDIS_SENTINELS = _sentinels(env_str("REDIS_SENTINELS")) if env_str("REDIS_SENTINELS") else []
REDIS_SENTINEL_MASTER = env_match(
    "REDIS_SENTINEL_MASTER", "mymaster", r"[\w.-]+", "a master name (letters, digits, _.-)"
)
if REDIS_SENTINELS:
    REDIS_URL = REDIS_URL or "redis://sentinel/0"  # host unused: the sentinels name the primary
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's Redis cache, where an unreachable Redis is a miss (infra.cache)
            "BACKEND": "infra.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
            "OPTIONS": {"pool_class": "infra.redis.ConnectionPool"},
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
if REDIS_SENTINELS and CELERY_BROKER_URL == REDIS_URL:
    # kombu's Sentinel transport: one sentinel:// URL per sentinel, the master name in the options.
    _auth, _at, _ = urlsplit(REDIS_URL).netloc.rpartition("@")
    CELERY_BROKER_URL = ";".join(
        f"sentinel://{_auth}{_at}{f'[{host}]' if ':' in host else host}:{port}{urlsplit(REDIS_URL).path or '/0'}"
        for host, port in REDIS_SENTINELS
    )
    CELERY_BROKER_TRANSPORT_OPTIONS = {"master_name": REDIS_SENTINEL_MASTER}
# The embedded broker hangs a prefork worker whose children are signalled with it (honcho's
# Ctrl-C), so there the worker runs threads (no task time limits); with a real broker, prefork.
CELERY_WORKER_POOL = "threads" if CELERY_BROKER_URL.startswith("sqla+") else "prefork"
# An unreachable broker costs a request that enqueues (a ban's enforcement) about two seconds at
# most; what was not queued is caught up by the periodic retry.
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
if CELERY_BROKER_URL.startswith(("redis", "rediss")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_timeout": 1, "socket_connect_timeout": 1}
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
    # Each entry sends its period as `interval`: the task runs once per interval even if two beats
    # run by mistake (infra/beat.py).
    "lift-expired-bans": {"task": "moderation.tasks.lift_expired_bans", "schedule": 60, "kwargs": {"interval": 60}},
    "retry-unconfirmed-bans": {
        "task": "moderation.tasks.retry_unconfirmed_bans",
        "schedule": 300,
        "kwargs": {"interval": 300},
    },
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
# Viewers (SPEC §5): the watch page heartbeats every HEARTBEAT_INTERVAL; silent for VIEWER_TIMEOUT,
# a viewer stops counting. Xiaozhibo apps send no heartbeat: their viewers count until QuitGroup,
# the room's end, or XIAOZHIBO_VIEWER_TIMEOUT after their last EnterGroup.
HEARTBEAT_INTERVAL = env_int("HEARTBEAT_INTERVAL", 20, minimum=1)
VIEWER_TIMEOUT = env_int("VIEWER_TIMEOUT", 50, minimum=1)
if VIEWER_TIMEOUT <= HEARTBEAT_INTERVAL:
    raise ImproperlyConfigured(
        f"VIEWER_TIMEOUT={VIEWER_TIMEOUT} must be longer than HEARTBEAT_INTERVAL={HEARTBEAT_INTERVAL}:"
        " a viewer would drop out between two heartbeats."
    )
XIAOZHIBO_VIEWER_TIMEOUT = env_int("XIAOZHIBO_VIEWER_TIMEOUT", 4 * 3600, minimum=1)
CALLBACK_MAX_AHEAD = env_int("CALLBACK_MAX_AHEAD", 15 * 60, minimum=0)
CALLBACK_LOG_DAYS = env_int("CALLBACK_LOG_DAYS", 30, minimum=1)  # days the callback log is kept
# A callback's event time may lie at most this far ahead of our clock (and never after its `t`).
CALLBACK_EVENT_MAX_AHEAD = env_int("CALLBACK_EVENT_MAX_AHEAD", 5 * 60, minimum=0)
# Refused callbacks logged one by one per minute; the rest of the minute is counted on one row.
CALLBACK_REFUSED_PER_MINUTE = env_int("CALLBACK_REFUSED_PER_MINUTE", 20, minimum=1)
CALLBACK_PRUNE_BATCH = env_int("CALLBACK_PRUNE_BATCH", 5000, minimum=1)  # log rows deleted per statement
ROOM_LIST_CACHE_TTL = env_int("ROOM_LIST_CACHE_TTL", 5, minimum=0)  # seconds a list page is cached (Redis); 0 = off
# How long a request for a list page that another request is computing waits for its answer.
ROOM_LIST_FILL_WAIT_MS = env_int("ROOM_LIST_FILL_WAIT_MS", 250, minimum=0)
# Seconds past that a cached list page or live room is still served while the database is unreachable.
STALE_IF_ERROR = env_int("STALE_IF_ERROR", 60, minimum=0)
# Seconds a cursor walk of a count ordering keeps its snapshot of the order (Redis); 0 = walk a keyset.
LIST_SNAPSHOT_TTL = env_int("LIST_SNAPSHOT_TTL", 120, minimum=0)

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
    "kwargs": {"interval": SWEEP_INTERVAL},
    "options": {"expires": SWEEP_INTERVAL},
}
# Beat: the callback log keeps CALLBACK_LOG_DAYS.
CELERY_BEAT_SCHEDULE["prune-callback-log"] = {
    "task": "callbacks.tasks.prune_callback_log",
    "schedule": 3600,
    "kwargs": {"interval": 3600},
}
# Metrics (SPEC §16): /metrics for a bearer METRICS_TOKEN or the addresses / networks in
# METRICS_ALLOWED (loopback in debug), 404 for anyone else. METRICS_ENABLED=off stops measuring.
METRICS_ENABLED = env_bool("METRICS_ENABLED", True)
METRICS_TOKEN = env_str("METRICS_TOKEN", "") or None
METRICS_ALLOWED = [
    a.strip() for a in env_str("METRICS_ALLOWED", "127.0.0.1,::1" if DEBUG else "").split(",") if a.strip()
]
# prometheus-client turns multiprocess mode on when the variable merely exists: empty means off here.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR") == "":
    del os.environ["PROMETHEUS_MULTIPROC_DIR"]
elif os.environ.get("PROMETHEUS_MULTIPROC_DIR") and not os.path.isdir(os.environ["PROMETHEUS_MULTIPROC_DIR"]):
    raise ImproperlyConfigured(
        f"PROMETHEUS_MULTIPROC_DIR={os.environ['PROMETHEUS_MULTIPROC_DIR']!r} is not a directory."
    )
for _address in METRICS_ALLOWED:
    try:
        ipaddress.ip_network(_address, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"METRICS_ALLOWED={env_str('METRICS_ALLOWED')!r}: {_address!r} is not an address or network (10.0.0.0/8)."
        ) from None
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
# RTMP play: Tencent serves it on the play domain (SPEC §3.3). The local edge serves RTMP on its
# push port and HLS on another, so `make run` sets this to its push domain.
TENCENT_LIVE_RTMP_PLAY_DOMAIN = (
    env_match("TENCENT_LIVE_RTMP_PLAY_DOMAIN", None, HOST_PORT, "a host[:port]") or TENCENT_LIVE_PLAY_DOMAIN
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

# Moderation (SPEC §8.1): a Block verdict of Tencent's moderation bans the room at once when on;
# the live wall refreshes itself every MODERATION_WALL_REFRESH seconds.
AUTO_BAN_ON_BLOCK = env_bool("AUTO_BAN_ON_BLOCK", False)
MODERATION_WALL_REFRESH = env_int("MODERATION_WALL_REFRESH", 5, minimum=1)
# The simulator takes a real frame of each stream pushed to the ingest edge this often (0: never).
SIM_SNAPSHOT_INTERVAL = env_int("SIM_SNAPSHOT_INTERVAL", 10, minimum=0)

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
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],  # DRF's, with too deep a body a 400
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.ScopedRateThrottle"],
    # Throttles count per client address: X-Forwarded-For is read only behind this many proxies
    # of ours (DRF's default trusts whatever a client sends, so a throttle could be dodged).
    "NUM_PROXIES": env_int("DJANGO_NUM_PROXIES", 0, minimum=0),
    "DEFAULT_THROTTLE_RATES": {
        "auth": env_match("THROTTLE_AUTH", "30/min", RATE, "a rate such as 30/min"),
        "room_write": env_match("THROTTLE_ROOM_WRITE", "60/min", RATE, "a rate such as 60/min"),
        "counter": env_match("THROTTLE_COUNTER", "600/min", RATE, "a rate such as 600/min"),
        "report": env_match("THROTTLE_REPORT", "20/hour", RATE, "a rate such as 20/hour"),
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
    # request bodies get components of their own: exact about what is required, blank or write-only
    "COMPONENT_SPLIT_REQUEST": True,
    # every operation's error answers, with the one error shape (api/schema.py)
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.schema.document_errors"],
}

# Tests: cases per operation and phase in the schemathesis run (tests/test_api_schema.py).
SCHEMATHESIS_EXAMPLES = env_int("SCHEMATHESIS_EXAMPLES", 8, minimum=1)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Logins: password guessing (django-axes). LOGIN_FAILURE_LIMIT failed logins for one username from
# one address lock that pair out for LOGIN_LOCKOUT_SECONDS, counted across the token endpoint,
# /login/ and /admin/login/ (accounts/lockout.py). Kept in the database: no Redis needed, and the
# attempts are listed in the admin, where deleting one unlocks its pair.
INSTALLED_APPS += ["axes"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(seconds=env_int("LOGIN_LOCKOUT_SECONDS", 15 * 60, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]  # not the username alone: anyone could lock anyone out
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # no row per successful login
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_address"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "csrfmiddlewaretoken"]

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
    # urllib3 logs each request's URL at DEBUG, the legacy cloud API's `sign` among them.
    "loggers": {"urllib3.connectionpool": {"level": "INFO"}},
}
