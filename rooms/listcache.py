"""Cached pages of the public room list (Redis mode, ROOM_LIST_CACHE_TTL > 0).

A page is stored as the exact bytes of its JSON response, under the list's current `version`
and a digest of the host and query (the `next` / `previous` links name the host). Every change
of the list's membership bumps `version` (a receiver of `room_status_changed`), so a cached page
never outlives it; only the counts on a page may lag, by at most the cache lifetime. Signed play
URLs stay valid that long: their expiry is rounded up to a minute and lies PLAY_URL_TTL ahead.

A lookup reads the version and the page in one round trip (a Lua script).
"""

import hashlib
import logging
from functools import lru_cache

import redis
from django.conf import settings
from django.dispatch import receiver
from django.http import HttpResponse

from liveroom.redis import get_redis, key

from .models import Room
from .signals import room_status_changed

log = logging.getLogger(__name__)

# KEYS: version.  ARGV: page key prefix, page digest.  Returns {version, page or nil}.
_LOOKUP = """
local version = redis.call('GET', KEYS[1]) or '0'
return {version, redis.call('GET', ARGV[1] .. version .. ':' .. ARGV[2])}
"""


class PageCache:
    """The cache entry of one list request: `get()` first, then `set()` after a miss."""

    def __init__(self, request):
        query = "&".join(f"{name}={value}" for name, values in sorted(request.GET.lists()) for value in values)
        page = f"{request.scheme}://{request.get_host()}?{query}"
        self.digest = hashlib.blake2b(page.encode(), digest_size=16).hexdigest()
        self.version = None

    @classmethod
    def for_request(cls, request):
        """The entry for this request, or None when list caching is off."""
        if not settings.REDIS_URL or settings.ROOM_LIST_CACHE_TTL <= 0:
            return None
        return cls(request)

    def get(self) -> bytes | None:
        self.version, body = _lookup()(keys=[key("list", "version")], args=[key("list", ""), self.digest])
        return body

    def set(self, body: bytes):
        get_redis().set(key("list", self.version.decode(), self.digest), body, ex=settings.ROOM_LIST_CACHE_TTL)


def json_response(body: bytes) -> HttpResponse:
    return HttpResponse(body, content_type="application/json")


def invalidate():
    """Forget every cached page (the list's membership or a listed room changed)."""
    if settings.REDIS_URL:
        get_redis().incr(key("list", "version"))


@lru_cache(maxsize=4)
def _lookup_for(client):
    return client.register_script(_LOOKUP)


def _lookup():
    return _lookup_for(get_redis())


@receiver(room_status_changed, dispatch_uid="listcache_membership")
def _membership_changed(sender, room_id, old_status, new_status, **kwargs):
    if Room.Status.LIVE not in (old_status, new_status):
        return
    try:
        invalidate()
    except redis.RedisError:
        log.warning("list cache not invalidated for room %s; pages expire by themselves", room_id, exc_info=True)
