"""Prometheus metrics (SPEC §16): every metric the processes move, and one small function per site.

The code that does the work calls one of the functions below (a like, a callback, a sweep, a
cloud call, a flush); what is read from the database or Redis (rooms by status, watching now,
bans awaiting the cloud, flush lag, degraded streams) is computed when /metrics is scraped
(`monitoring.exposition`). Labels take bounded values only: never a room or stream id.

With several processes (gunicorn workers, the Celery worker and its children) set
PROMETHEUS_MULTIPROC_DIR to one empty directory for all of them on the node: each process
writes its samples there (prometheus-client's multiprocess mode, memory-mapped files), and a
scrape of any web worker adds them up. Without it the samples are those of the one process.
"""

import os
import time

from django.conf import settings
from prometheus_client import Counter, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

HTTP_REQUESTS = Histogram(
    "liveroom_http_request_duration_seconds",
    "HTTP requests by view (URL name), method and status, with their latency; _count is the number of requests.",
    ["view", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
LIKES = Counter("liveroom_likes_total", "Likes added (a like request of count n adds n).")
JOINS = Counter("liveroom_joins_total", "Viewers who joined a room.")
CALLBACKS = Counter(
    "liveroom_callbacks_total",
    "Tencent callbacks by event type and outcome (applied, duplicate, ignored, refused) and why.",
    ["event_type", "outcome", "reason"],
)
SWEEPS = Counter("liveroom_sweeper_passes_total", "Sweeper passes by result (ok, cloud_error, skipped).", ["result"])
SWEEP_ROOMS = Counter(
    "liveroom_sweeper_rooms_total",
    "Rooms the sweeper acted on: healed, struck, closed (reason zombie, stream_ended, expired), reforbidden.",
    ["action", "reason"],
)
SWEEP_DURATION = Histogram("liveroom_sweeper_duration_seconds", "Duration of a sweeper pass.", buckets=JOB_BUCKETS)
CLOUD_CALLS = Histogram(
    "liveroom_cloud_call_duration_seconds",
    "Tencent Cloud API calls by action and result (ok, or the error's class), with their latency.",
    ["action", "result"],
    buckets=LATENCY_BUCKETS,
)
FLUSH_DURATION = Histogram(
    "liveroom_counter_flush_duration_seconds", "Duration of a counter flush (Redis to PostgreSQL).", buckets=JOB_BUCKETS
)
FLUSH_ROOMS = Counter("liveroom_counter_flushed_rooms_total", "Rooms whose counts a flush wrote to the database.")
HEALTH_CHECKS = Counter(
    "liveroom_stream_health_checks_total",
    "Stream health checks (DescribeLiveStreamPushInfoList) by result.",
    ["result"],
)
PUSH_EXCEPTIONS = Counter(
    "liveroom_push_exceptions_total", "Push-exception callbacks (event 321) by Tencent's exception type.", ["type"]
)

# Tencent's callback event types we know; any other is counted as "other" (bounded labels).
KNOWN_EVENT_TYPES = {0, 1, 100, 200, 315, 317, 321, 332}
# API 3.0 error codes are `Class.Detail`; the class is a short fixed list (AuthFailure, InternalError, ...).
KNOWN_ERROR_CLASSES = {
    "AuthFailure",
    "DryRunOperation",
    "FailedOperation",
    "InternalError",
    "InvalidAction",
    "InvalidParameter",
    "InvalidParameterValue",
    "InvalidRequest",
    "LimitExceeded",
    "MissingParameter",
    "NoSuchVersion",
    "OperationDenied",
    "RequestLimitExceeded",
    "ResourceInUse",
    "ResourceInsufficient",
    "ResourceNotFound",
    "ResourceUnavailable",
    "UnauthorizedOperation",
    "UnknownParameter",
    "UnsupportedOperation",
}


def enabled() -> bool:
    return settings.METRICS_ENABLED


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def request_done(view: str, method: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(view, method, str(status)).observe(seconds)


def counted(field: str, amount: int) -> None:
    """A counter change that went through (see `rooms.counters.increment`)."""
    if amount <= 0:
        return
    if field == "like_count":
        LIKES.inc(amount)
    elif field == "viewer_count":
        JOINS.inc(amount)


def callback(event_type, outcome: str, reason: str = "") -> None:
    """One callback: outcome applied / duplicate / ignored / refused; reason a short code."""
    CALLBACKS.labels(event_type_label(event_type), outcome, reason).inc()


def event_type_label(event_type) -> str:
    if type(event_type) is not int:
        return "unknown"
    return str(event_type) if event_type in KNOWN_EVENT_TYPES else "other"


def sweep_done(result) -> None:
    """One sweeper pass (`rooms.sweeper.SweepResult`)."""
    if not result.ran:
        SWEEPS.labels("skipped").inc()
        return
    SWEEPS.labels("cloud_error" if result.cloud_error else "ok").inc()
    SWEEP_DURATION.observe(result.seconds)
    for action, reason, count in (
        ("healed", "", result.healed),
        ("struck", "", result.struck),
        ("closed", "zombie", result.zombies),
        ("closed", "stream_ended", result.ended),
        ("closed", "expired", result.expired),
        ("reforbidden", "", result.reforbidden),
    ):
        if count:
            SWEEP_ROOMS.labels(action, reason).inc(count)
    _recent().note_sweep(result)


def cloud_call(action: str, error=None, seconds: float = 0.0) -> None:
    """One cloud API call; `error` the `CloudError` it raised, if any."""
    CLOUD_CALLS.labels(action, cloud_result(error)).observe(seconds)
    if error is not None:
        _recent().note("cloud_errors")


def cloud_result(error) -> str:
    if error is None:
        return "ok"
    code = getattr(error, "code", "") or ""
    if not code:
        return "unreachable"  # a timeout, a refused connection, an unreadable answer
    head = code.split(".")[0]
    return head if head in KNOWN_ERROR_CLASSES else "error"


def flush_done(started: float, rooms: int) -> None:
    """A counter flush that started at `started` (time.time()) and wrote `rooms` rooms."""
    FLUSH_DURATION.observe(max(time.time() - started, 0.0))
    FLUSH_ROOMS.inc(rooms)
    _recent().note_flush(started)


def health_checked(result: str) -> None:
    HEALTH_CHECKS.labels(result).inc()


def push_exception(exception_type) -> None:
    label = str(exception_type) if type(exception_type) is int and 0 <= exception_type <= 20 else "other"
    PUSH_EXCEPTIONS.labels(label).inc()


def _recent():
    from monitoring import recent

    return recent
