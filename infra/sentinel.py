"""Redis named by Sentinel (REDIS_SENTINELS, REDIS_SENTINEL_MASTER): how clients are built.

Every Redis client of the project — the shared one and Django's cache (DRF's throttles), both
built by `infra.redis.ConnectionPool`, and the Celery broker (kombu's `sentinel://` transport, set up in settings) — asks the sentinels for the
current primary when it connects. After a failover the old primary's connections fail, the next
command connects again and the sentinels name the promoted replica; a primary that comes back as
a replica answers READONLY, on which redis-py disconnects and asks again.

REDIS_URL keeps its meaning for the rest of the code ("Redis is configured") and still gives the
database number and password; its host and port are not used while sentinels are named.
"""

from functools import lru_cache

from django.conf import settings
from redis.connection import parse_url
from redis.sentinel import Sentinel, SentinelConnectionPool

# redis-py's URL options that describe a connection to one server, not to the sentinels.
_SERVER_ONLY = ("host", "port", "path", "connection_class")


def enabled() -> bool:
    return bool(settings.REDIS_SENTINELS)


def pool(url, **options) -> SentinelConnectionPool:
    """A connection pool to the primary the sentinels name, with `url`'s database and password."""
    kwargs = {**{k: v for k, v in parse_url(url).items() if k not in _SERVER_ONLY}, **options}
    return SentinelConnectionPool(settings.REDIS_SENTINEL_MASTER, _sentinel(tuple(settings.REDIS_SENTINELS)), **kwargs)


@lru_cache(maxsize=4)
def _sentinel(addresses) -> Sentinel:
    timeouts = {"socket_timeout": 1, "socket_connect_timeout": 1}
    return Sentinel(list(addresses), sentinel_kwargs=timeouts, **timeouts)
