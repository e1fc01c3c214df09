"""One shared Redis client (connection pool) for counters, caches and locks."""

from functools import lru_cache

import redis
from django.conf import settings


@lru_cache(maxsize=1)
def _client(url):
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30)


def get_redis() -> redis.Redis:
    return _client(settings.REDIS_URL)


def key(*parts) -> str:
    """A namespaced key: `{REDIS_KEY_PREFIX}:part:part`."""
    return ":".join([settings.REDIS_KEY_PREFIX, *map(str, parts)])
