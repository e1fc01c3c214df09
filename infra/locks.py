"""Named locks across processes, so that periodic jobs never overlap.

Redis configured: a redis-py `Lock` (expires after `timeout`, in case its holder dies).
PostgreSQL without Redis: a session advisory lock. SQLite (the embedded default, one machine):
an `flock` on a file beside the database. The last two are released by the OS or the database
when their holder dies.
"""

import fcntl
import time
import zlib
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection


@contextmanager
def exclusive(name, *, timeout):
    """Yield True while this process holds lock `name`, or False at once when another does."""
    if settings.REDIS_URL:
        lock_cm = _redis_lock
    elif connection.vendor == "postgresql":
        lock_cm = _advisory_lock
    else:
        lock_cm = _file_lock
    with lock_cm(name, timeout) as acquired:
        yield acquired


@contextmanager
def _redis_lock(name, timeout):
    from infra.redis import get_redis, key

    lock = get_redis().lock(key("lock", name), timeout=timeout)
    acquired = lock.acquire(blocking=False)
    try:
        yield acquired
    finally:
        if acquired:
            _release(lock)


def _release(lock):
    """Release a Redis lock, riding out a failover (a few seconds without a primary, and the
    circuit breaker's pause after it); past that it expires by itself after its timeout.

    The breaker lets one trial through per pause, so a promotion that takes a little longer than
    one pause is seen only at the next trial: the wait covers two pauses and then some. Giving up
    sooner would leave the lock held until its timeout, and no sweep would run meanwhile."""
    from redis.exceptions import ConnectionError, LockError, TimeoutError

    deadline = time.monotonic() + 2 * getattr(settings, "REDIS_BREAKER_SECONDS", 0) + 10
    while True:
        try:
            lock.release()
            return
        except LockError:  # it expired meanwhile (someone else may hold it now), or was never replicated
            return
        except (ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


@contextmanager
def _advisory_lock(name, timeout):
    lock_id = zlib.crc32(name.encode())  # advisory locks are per database
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_id])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])


@contextmanager
def _file_lock(name, timeout):
    path = Path(str(connection.settings_dict["NAME"])).with_name(f".{name}.lock")
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
