"""Periodic tasks run once per interval, however many beat processes send them.

Exactly one beat should run (deploy/), but a second one by mistake — the same unit enabled on two
machines — must stay harmless. Each schedule entry (CELERY_BEAT_SCHEDULE) sends its period with the
task as `interval`; the task first claims the interval in Redis (SET NX with an expiry of 0.9 × the period)
and a second send within it finds the claim and skips. The claim expires a little before the next
interval, so one beat's own sends, which drift a little, are never skipped. Without Redis (one
machine), or called without `interval` (by hand, by a command), a task always runs.
"""

import logging

import redis
from django.conf import settings

from .redis import get_redis, key

log = logging.getLogger(__name__)


def once_per_interval(name):
    """Decorate a periodic task's function (under `@shared_task`): skip a second run per interval."""

    def decorate(func):
        def run(*args, interval=None, **kwargs):
            if interval and not claim(name, interval):
                log.info("%s skipped: it already ran in this interval (another beat sent it too)", name)
                return {"skipped": "already ran in this interval"}
            return func(*args, **kwargs)

        # not functools.wraps: Celery checks calls against the signature, which must keep `interval`
        run.__name__, run.__qualname__, run.__module__, run.__doc__ = (
            func.__name__,
            func.__qualname__,
            func.__module__,
            func.__doc__,
        )
        return run

    return decorate


def claim(name, interval) -> bool:
    """True for the first claim of `name` within 0.9 × `interval` seconds."""
    if not settings.REDIS_URL:
        return True
    try:
        return bool(get_redis().set(key("beat", name), "1", nx=True, px=max(1, int(interval * 900))))
    except redis.RedisError:
        log.warning("%s: interval not claimed (Redis failed); running it anyway", name, exc_info=True)
        return True  # the task's own guards (the sweeper's lock, guarded updates) still hold
