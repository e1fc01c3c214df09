"""Cached answers of the public list and of live rooms (Redis mode, ROOM_LIST_CACHE_TTL > 0).

Every answer is stored as the exact bytes of its JSON response, as a field of one Redis hash:
a list page under a digest of its host and query string (its `next` / `previous` links name the
host), a live room under its id (it is the same for everyone who may see it). Any change of the
list's membership, or of a listed room, drops the whole hash and bumps `version` in one step (a
receiver of `room_status_changed`); an answer computed before the change carries the old
version and is not stored. So membership is never stale. The hash expires at most
ROOM_LIST_CACHE_TTL after its first answer: counts on a cached page lag by no more than that,
and a cached room gets its current counts from Redis with the lookup. Signed play URLs stay valid
that long: their expiry is rounded up to a minute and lies PLAY_URL_TTL ahead.

A lookup is one round trip: HMGET for a page (the bytes come back as stored), a script for a
room (its counts live in another key).
"""

import hashlib
import logging
import re

import redis
from django.conf import settings
from django.dispatch import receiver
from django.http import HttpResponse

from liveroom.redis import get_redis, key, scripts

from .models import Room
from .signals import room_status_changed

log = logging.getLogger(__name__)
VERSION_FIELD = ".version"
_COUNT_PATTERNS = [
    (re.compile(rb'"viewer_count":\d+'), b'"viewer_count":'),
    (re.compile(rb'"like_count":\d+'), b'"like_count":'),
]

# KEYS: answers, version.  ARGV: version read before the answer was computed, field, body, ttl.
_STORE = f"""
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], '{VERSION_FIELD}', ARGV[1], ARGV[2], ARGV[3])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[4]) end
return 1
"""

# KEYS: answers, version, counts.  ARGV: field, room id.
# Returns {version, body, viewer_count, like_count}; body and counts may be nil.
_LOOKUP_ROOM = """
local body = redis.call('HGET', KEYS[1], ARGV[1])
local version = redis.call('GET', KEYS[2]) or '0'
if not body then return {version} end
local counts = redis.call('HMGET', KEYS[3], ARGV[2] .. ':viewer_count', ARGV[2] .. ':like_count')
return {version, body, counts[1], counts[2]}
"""


# KEYS: answers, version, counts.  ARGV: field. The field holds "{room id}\n{body}".
# Returns {version, body, viewer_count, like_count}; body and counts may be nil.
_LOOKUP_BOUND = """
local entry = redis.call('HGET', KEYS[1], ARGV[1])
local version = redis.call('GET', KEYS[2]) or '0'
if not entry then return {version} end
local newline = string.find(entry, '\\n', 1, true)
local room = string.sub(entry, 1, newline - 1)
local counts = redis.call('HMGET', KEYS[3], room .. ':viewer_count', room .. ':like_count')
return {version, string.sub(entry, newline + 1), counts[1], counts[2]}
"""


def enabled() -> bool:
    return bool(settings.REDIS_URL) and settings.ROOM_LIST_CACHE_TTL > 0


class _Entry:
    field = ""
    version = None

    def set(self, body: bytes):
        """Store an answer computed after `get()`, unless the cache was dropped in between."""
        _scripts().store(
            keys=[key("answers"), key("answers", "version")],
            args=[self.version, self.field, body, settings.ROOM_LIST_CACHE_TTL],
        )


class AnswerCache(_Entry):
    """The cache entry of an answer named by `field`: `get()` first, then `set()` after a miss."""

    def __init__(self, field):
        self.field = field

    @classmethod
    def named(cls, field):
        """The entry, or None when caching is off."""
        return cls(field) if enabled() else None

    def get(self) -> bytes | None:
        body, self.version = get_redis().hmget(key("answers"), [self.field, VERSION_FIELD])
        if body is None and self.version is None:  # no answers stored: read the version now
            self.version = get_redis().get(key("answers", "version")) or b"0"
        return body


class PageCache(AnswerCache):
    """The cache entry of one list request."""

    def __init__(self, request):
        # The host as sent: a host Django refuses never gets a page stored, so it only ever misses.
        meta = request.META
        page = f"{request.scheme}://{meta.get('HTTP_HOST', '')}?{meta.get('QUERY_STRING', '')}"
        super().__init__("list:" + hashlib.blake2b(page.encode(), digest_size=16).hexdigest())

    @classmethod
    def for_request(cls, request):
        """The entry for this request, or None when caching is off."""
        return cls(request) if enabled() else None


class RoomCache(_Entry):
    """The cache entry of one live room's detail; `get()` answers with its current counts."""

    def __init__(self, room_id):
        self.room_id, self.field = str(room_id), f"room:{room_id}"

    @classmethod
    def for_room(cls, room_id):
        return cls(room_id) if enabled() else None

    def get(self) -> bytes | None:
        reply = _scripts().room(
            keys=[key("answers"), key("answers", "version"), key("counters", "counts")], args=[self.field, self.room_id]
        )
        self.version = reply[0]
        if len(reply) == 1:
            return None
        return _patch(reply[1], reply[2:], _COUNT_PATTERNS)


class RoomAnswerCache(_Entry):
    """The cache entry of an answer about one room that the caller names without its id (the
    Xiaozhibo GetUserInfo names the anchor). The room id is stored with the body, so `get()`
    patches in the room's current counts in the same round trip. `count_keys` are the JSON keys
    of the viewer and like counts in the body."""

    def __init__(self, field, count_keys=(b"viewer_count", b"like_count")):
        self.field = field
        self._patterns = [(re.compile(b'"' + name + rb'":\d+'), b'"' + name + b'":') for name in count_keys]

    @classmethod
    def named(cls, field, count_keys=(b"viewer_count", b"like_count")):
        return cls(field, count_keys) if enabled() else None

    def get(self) -> bytes | None:
        reply = _scripts().bound(
            keys=[key("answers"), key("answers", "version"), key("counters", "counts")], args=[self.field]
        )
        self.version = reply[0]
        if len(reply) == 1:
            return None
        return _patch(reply[1], reply[2:], self._patterns)

    def set(self, body: bytes, *, room_id=None):
        super().set(b"%d\n" % room_id + body)


def _patch(body, counts, patterns):
    for value, (pattern, prefix) in zip(counts, patterns, strict=True):
        if value is not None:
            # The keys can only match where they are keys: inside a JSON string their quotes are escaped.
            body = pattern.sub(prefix + value, body, count=1)
    return body


def json_response(body: bytes) -> HttpResponse:
    response = HttpResponse(body, content_type="application/json")
    response["Vary"] = "Accept"  # as DRF's own answers: the body depends on the negotiated format
    return response


def invalidate():
    """Forget every cached answer (the list's membership or a listed room changed)."""
    if settings.REDIS_URL:
        get_redis().pipeline().incr(key("answers", "version")).delete(key("answers")).execute()


_scripts = scripts(store=_STORE, room=_LOOKUP_ROOM, bound=_LOOKUP_BOUND)


@receiver(room_status_changed, dispatch_uid="listcache_membership")
def _membership_changed(sender, room_id, old_status, new_status, **kwargs):
    if Room.Status.LIVE not in (old_status, new_status):
        return
    try:
        invalidate()
    except redis.RedisError:
        log.warning("list cache not invalidated for room %s; answers expire by themselves", room_id, exc_info=True)
