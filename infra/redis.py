"""One shared Redis client (connection pool) for counters, caches and locks.

Every connection has short socket timeouts (`REDIS_SOCKET_TIMEOUT_MS`) and the circuit breaker of
`infra.breaker` (one per Redis server, shared with Django's cache), so a Redis that is down or
hangs costs a request at most one timeout, and none while the circuit is open.
"""

from functools import lru_cache
from types import SimpleNamespace

import redis
from django.conf import settings

from . import sentinel
from .breaker import BreakerRetry, new_breaker, retry_after

# Redis cannot be reached: refused, reset, timed out, or not tried (the circuit is open).
UNREACHABLE = (redis.ConnectionError, redis.TimeoutError)


class ConnectionPool(redis.ConnectionPool):
    """redis-py's pool with our timeouts and breaker; Django's cache uses it too (`pool_class`)."""

    @classmethod
    def from_url(cls, url, **kwargs):
        options = {**connection_options(url), **kwargs}
        if sentinel.enabled():  # the primary the sentinels name, followed through a failover
            return sentinel.pool(url, **options)
        return super().from_url(url, **options)


def connection_options(url) -> dict:
    timeout = settings.REDIS_SOCKET_TIMEOUT_MS / 1000
    return {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "health_check_interval": 30,
        "retry": BreakerRetry(breaker(url)),
    }


@lru_cache(maxsize=8)
def _breaker(url):
    return new_breaker(url.rsplit("@", 1)[-1], settings.REDIS_BREAKER_SECONDS)


def breaker(url=None):
    """The circuit breaker of the Redis at `url` (default REDIS_URL)."""
    found = _breaker(url or settings.REDIS_URL)
    found.reset_timeout = settings.REDIS_BREAKER_SECONDS
    return found


def unavailable_for() -> int:
    """Seconds a client should wait before trying what needs Redis again (a `Retry-After`)."""
    return retry_after(breaker())


@lru_cache(maxsize=1)
def _client(url):
    return redis.Redis(connection_pool=ConnectionPool.from_url(url))


def get_redis() -> redis.Redis:
    return _client(settings.REDIS_URL)


def key(*parts) -> str:
    """A namespaced key: `{REDIS_KEY_PREFIX}:part:part`."""
    return ":".join([settings.REDIS_KEY_PREFIX, *map(str, parts)])


def pubsub_key(*parts) -> str:
    """A namespaced pub/sub channel: `key(*parts)` and the database number. Pub/sub is one
    namespace for the whole Redis server, whatever the database: without the number, instances
    that share a server through their database numbers (the bench, the tests) would hear each
    other's events."""
    db = get_redis().connection_pool.connection_kwargs.get("db", 0)
    return f"{key(*parts)}:db{db}"


def scripts(**sources):
    """A function giving the Lua `sources` registered on the shared client, one attribute per
    keyword: `_scripts = scripts(change=CHANGE)`, then `_scripts().change(keys=..., args=...)`.
    Each client registers them once."""

    @lru_cache(maxsize=4)
    def registered(client):
        return SimpleNamespace(**{name: client.register_script(source) for name, source in sources.items()})

    return lambda: registered(get_redis())
