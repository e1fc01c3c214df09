"""What happened lately, for the operator page: counts per minute, the last sweep, the last flush.

Prometheus counters only grow, so "cloud errors in the last 5 minutes" needs a memory of its
own: one cache key per minute (Redis when configured, shared by every process; without Redis,
Django's per-process memory cache). A failing cache never fails the work that reports to it.
"""

import logging
import time

from django.core.cache import cache

log = logging.getLogger(__name__)
KEEP = 15 * 60  # seconds a minute's count is kept


def note(kind: str, amount: int = 1) -> None:
    key = f"recent:{kind}:{int(time.time() // 60)}"
    try:
        if not cache.add(key, amount, KEEP):
            cache.incr(key, amount)
    except Exception:  # noqa: BLE001 - the operator page may miss it; the work must not fail
        log.warning("recent %s not counted", kind, exc_info=True)


def count(kind: str, minutes: int = 5) -> int:
    """How many `kind` in the last `minutes` whole minutes (the current one included)."""
    now = int(time.time() // 60)
    try:
        values = cache.get_many([f"recent:{kind}:{minute}" for minute in range(now - minutes + 1, now + 1)])
    except Exception:  # noqa: BLE001
        return 0
    return sum(values.values())


def note_sweep(result) -> None:
    _set("recent:last_sweep", {"at": time.time(), **result.as_dict()})


def note_flush(started: float) -> None:
    _set("recent:last_flush_started", started)


def last_sweep() -> dict | None:
    return _get("recent:last_sweep")


def last_flush_started() -> float | None:
    return _get("recent:last_flush_started")


def _set(key, value):
    try:
        cache.set(key, value, None)
    except Exception:  # noqa: BLE001
        log.warning("%s not kept", key, exc_info=True)


def _get(key):
    try:
        return cache.get(key)
    except Exception:  # noqa: BLE001
        return None
