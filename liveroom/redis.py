"""One shared Redis client (connection pool) for counters, caches and locks."""

from functools import lru_cache
from types import SimpleNamespace

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


def scripts(**sources):
    """A function giving the Lua `sources` registered on the shared client, one attribute per
    keyword: `_scripts = scripts(change=CHANGE)`, then `_scripts().change(keys=..., args=...)`.
    Each client registers them once."""

    @lru_cache(maxsize=4)
    def registered(client):
        return SimpleNamespace(**{name: client.register_script(source) for name, source in sources.items()})

    return lambda: registered(get_redis())
