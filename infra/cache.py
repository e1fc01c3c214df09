"""Django's Redis cache, where an unreachable Redis is a cache miss rather than an error.

What keeps data in Django's cache (DRF's throttle counts) then carries on without it: a read
finds nothing, a write is dropped. So while Redis is down the throttles of sign-in and room
writes let requests through (logged) instead of failing them.
"""

import logging

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

from .redis import UNREACHABLE

log = logging.getLogger(__name__)


def _soft(name, fallback):
    method = getattr(DjangoRedisCache, name)

    def call(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except UNREACHABLE as exc:
            log.debug("cache %s skipped, Redis unreachable: %s", name, exc)  # the breaker logs the outage
            return fallback(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = method.__doc__
    return call


class RedisCache(DjangoRedisCache):
    get = _soft("get", lambda key, default=None, version=None: default)
    get_many = _soft("get_many", lambda keys, version=None: {})
    has_key = _soft("has_key", lambda key, version=None: False)
    add = _soft("add", lambda *args, **kwargs: False)
    set = _soft("set", lambda *args, **kwargs: None)
    set_many = _soft("set_many", lambda data, *args, **kwargs: list(data))
    touch = _soft("touch", lambda *args, **kwargs: False)
    delete = _soft("delete", lambda *args, **kwargs: False)
    delete_many = _soft("delete_many", lambda *args, **kwargs: None)
