"""Cached answers of the public list and of live rooms (Redis mode, ROOM_LIST_CACHE_TTL > 0).

Every answer is stored as the exact bytes of its JSON response, as a field of one Redis hash:
a list page under a digest of its host and its parameters as the list reads them (its `next` /
`previous` links name the host; `?page=01`, `?page=1` and no `page` share one entry), a live room under its id (it is the same for everyone who may see it). Any change of the
list's membership, or of a listed room, drops the whole hash and bumps `version` in one step (a
`follow_status`, called once a status change commits); an answer computed before the change carries the old
version and is not stored. So membership is never stale. Each answer is served for at most
ROOM_LIST_CACHE_TTL after it was computed (its `.at:` field, in Redis's clock): counts on a cached
page lag by no more than that, and a cached room gets its current counts from Redis with the
lookup. Signed play URLs stay valid that long: their expiry is rounded up to a minute and lies
PLAY_URL_TTL ahead. The hash expires ROOM_LIST_CACHE_TTL after the last answer stored, and a store
that finds MAX_FIELDS fields in it drops it first, so a flood of distinct searches cannot grow it
without bound.

A lookup is one round trip: a script for a page (the bytes come back as stored), a script for a
room (its counts live in another key).

One fill at a time: when a page is missing (the hash expired, or an invalidation dropped it), the
lookup that misses it also claims its filling (`SET NX`, FILL_CLAIM_MS) in the same round trip.
Only the claimant computes it; the other requests for that page poll for the answer (every
FILL_POLL_MS, up to ROOM_LIST_FILL_WAIT_MS) instead of all computing the same page at once, and
compute it themselves if it has not come by then (the claimant was slow, failed, or its answer
was refused as computed before an invalidation). Storing the answer, or an error answer, ends the
claim. Ahead of expiry: the first lookup of a page older than REFRESH_AT of its lifetime claims
it the same way and computes it again, while every other request keeps getting the stored answer,
so a page in demand is replaced before it expires and never misses for it.

Stale if error: each answer is also kept under a key of its own for ROOM_LIST_CACHE_TTL +
STALE_IF_ERROR seconds, which invalidation leaves alone. While the database cannot be reached
the view answers with that copy (`stale()`), so the list and live rooms stay up through a
database restart. Searches are not kept (free text would grow it without bound). While Redis
cannot be reached, a lookup is a miss and nothing is stored.
"""

import contextlib
import functools
import hashlib
import logging
import re
import time

import redis
from django.conf import settings
from django.http import HttpResponse

from api import httpcache
from infra.redis import UNREACHABLE, get_redis, key, scripts

from .filters import canonical_query_string
from .models import Room

log = logging.getLogger(__name__)
VERSION_FIELD = ".version"
ETAG_PREFIX = ".etag:"  # beside each stored answer, its ETag (api.httpcache), so a 304 hashes nothing
ROOM_COUNT_KEYS = (b"viewer_count", b"like_count")  # where a body holds a room's counts (the API's names)

FILL_CLAIM_MS = 2000  # a claim to fill a page outlives a claimant that died by this much
FILL_POLL_MS = 5
REFRESH_AT = 0.8  # of ROOM_LIST_CACHE_TTL: a page this old is computed again ahead of its expiry
AT_PREFIX = ".at:"  # beside each stored answer, when it was stored (ms, Redis's clock)
MAX_FIELDS = 30_000  # 10,000 answers (three fields each): a store beyond drops the hash first

_NOW_MS = (
    "local clock = redis.call('TIME')\nlocal now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)"
)

# KEYS: answers, version, stale copy, fill claim.  ARGV: version read before the answer was
# computed, field, body, ttl, ttl of the stale copy (0: none), ETag.
_STORE = f"""
redis.call('DEL', KEYS[4])
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[1] then return 0 end
if redis.call('HLEN', KEYS[1]) >= {MAX_FIELDS} then redis.call('DEL', KEYS[1]) end
{_NOW_MS}
redis.call('HSET', KEYS[1], '{VERSION_FIELD}', ARGV[1], ARGV[2], ARGV[3], '{ETAG_PREFIX}' .. ARGV[2], ARGV[6],
           '{AT_PREFIX}' .. ARGV[2], string.format('%d', now))
redis.call('EXPIRE', KEYS[1], ARGV[4])
if ARGV[5] ~= '0' then redis.call('SET', KEYS[3], ARGV[3], 'EX', ARGV[5]) end
return 1
"""

# The age in ms of the answer stored at `at` (its AT_PREFIX field), or nil without one.
_AGE = f"""
local function age(at)
  if not at then return nil end
  {_NOW_MS}
  return now - tonumber(at)
end
"""

# KEYS: answers, version, fill claim.  ARGV: field, the claim's lifetime in ms (0: claim nothing),
# ttl in ms, the age in ms past which one request refreshes the answer ahead of its expiry.
# Returns {body, version, etag} on a hit, {false, version, false, claimed (0 / 1)} on a miss:
# no answer, one older than the ttl, or one due for refreshing that this request has claimed.
_LOOKUP_PAGE = f"""{_AGE}
local found = redis.call('HMGET', KEYS[1], ARGV[1], '{VERSION_FIELD}', '{ETAG_PREFIX}' .. ARGV[1],
                         '{AT_PREFIX}' .. ARGV[1])
local old = found[1] and age(found[4])
local claim = ARGV[2] ~= '0'
if old and old < tonumber(ARGV[3]) then
  if claim and old >= tonumber(ARGV[4]) and redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[2]) then
    return {{false, found[2], false, 1}}
  end
  return {{found[1], found[2], found[3]}}
end
local version = found[2] or redis.call('GET', KEYS[2]) or '0'
local claimed = 0
if claim and redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[2]) then claimed = 1 end
return {{false, version, false, claimed}}
"""

# KEYS: answers, version, counts.  ARGV: field, room id, ttl in ms.
# Returns {version, body, viewer_count, like_count}; body and counts may be nil.
_LOOKUP_ROOM = f"""{_AGE}
local found = redis.call('HMGET', KEYS[1], ARGV[1], '{AT_PREFIX}' .. ARGV[1])
local version = redis.call('GET', KEYS[2]) or '0'
local old = found[1] and age(found[2])
if not old or old >= tonumber(ARGV[3]) then return {{version}} end
local counts = redis.call('HMGET', KEYS[3], ARGV[2] .. ':viewer_count', ARGV[2] .. ':like_count')
return {{version, found[1], counts[1], counts[2]}}
"""


# KEYS: answers, version, counts.  ARGV: field, ttl in ms. The field holds "{room id}\n{body}".
# Returns {version, body, viewer_count, like_count}; body and counts may be nil.
_LOOKUP_BOUND = f"""{_AGE}
local found = redis.call('HMGET', KEYS[1], ARGV[1], '{AT_PREFIX}' .. ARGV[1])
local version = redis.call('GET', KEYS[2]) or '0'
local old = found[1] and age(found[2])
if not old or old >= tonumber(ARGV[2]) then return {{version}} end
local entry = found[1]
local newline = string.find(entry, '\\n', 1, true)
local room = string.sub(entry, 1, newline - 1)
local counts = redis.call('HMGET', KEYS[3], room .. ':viewer_count', room .. ':like_count')
return {{version, string.sub(entry, newline + 1), counts[1], counts[2]}}
"""


def _ttl_ms():
    return settings.ROOM_LIST_CACHE_TTL * 1000


def enabled() -> bool:
    return bool(settings.REDIS_URL) and settings.ROOM_LIST_CACHE_TTL > 0


class _Entry:
    field = ""
    version = None
    keeps_stale = True
    etag = None  # the stored answer's ETag, when `get()` found one that needs no change
    claimed = False  # True once `get()` missed and claimed the filling of this entry

    def set(self, body: bytes, etag: str | None = None):
        """Store an answer computed after `get()`, unless the cache was dropped in between."""
        stale_ttl = settings.ROOM_LIST_CACHE_TTL + settings.STALE_IF_ERROR if self._keeps_stale() else 0
        try:
            _scripts().store(
                keys=[key("answers"), key("answers", "version"), self._stale_key(), self._claim_key()],
                args=[
                    self.version,
                    self.field,
                    body,
                    settings.ROOM_LIST_CACHE_TTL,
                    stale_ttl,
                    etag or httpcache.etag(body),
                ],
            )
        except UNREACHABLE:
            log.warning("answer not cached: Redis unreachable")

    def stale(self) -> bytes | None:
        """The answer stored last, up to STALE_IF_ERROR past its freshness (None: none, or no Redis)."""
        try:
            return get_redis().get(self._stale_key()) if self._keeps_stale() else None
        except UNREACHABLE:
            return None

    def release(self):
        """Give up a claim to fill this entry (the answer is an error, or will not be stored)."""
        if self.claimed:
            self.claimed = False
            with contextlib.suppress(UNREACHABLE):  # else it expires by itself
                get_redis().delete(self._claim_key())

    def _claim_key(self):
        return key("answers", "filling", self.field)

    def _keeps_stale(self):
        return self.keeps_stale and settings.STALE_IF_ERROR > 0

    def _stale_key(self):
        return key("answers", "stale", self.field)


class PageCache(_Entry):
    """The cache entry of one list request: `get()` first, then `set()` after a miss."""

    def __init__(self, request, query=None):
        """`query`: the request's `canonical_query_string` (worked out here when not given)."""
        if query is None:
            query = canonical_query_string(request.META.get("QUERY_STRING", "")) or ()
        # The host as sent: a host Django refuses never gets a page stored, so it only ever misses.
        page = f"{request.scheme}://{request.META.get('HTTP_HOST', '')}?{query!r}"
        self.field = "list:" + hashlib.blake2b(page.encode(), digest_size=16).hexdigest()
        self.keeps_stale = not dict(query).get("search")  # a search's answer is not kept stale

    @classmethod
    def for_request(cls, request):
        """The entry for this request, or None when caching is off or the list would refuse the
        query. Keyed by the query as the list reads it, so equivalent query strings share one."""
        if not enabled():
            return None
        query = canonical_query_string(request.META.get("QUERY_STRING", ""))
        return None if query is None else cls(request, query)

    def get(self, claim=False) -> bytes | None:
        """The stored answer, or None; with `claim`, a miss also claims its filling when no one
        else has (`claimed`)."""
        body, self.version, etag, *claimed = _scripts().page(
            keys=[key("answers"), key("answers", "version"), self._claim_key()],
            args=[self.field, FILL_CLAIM_MS if claim else 0, _ttl_ms(), int(_ttl_ms() * REFRESH_AT)],
        )
        self.etag = etag.decode() if etag else None
        self.claimed = bool(claimed and claimed[0])
        return body

    def wait(self) -> bytes | None:
        """After a miss someone else claimed: the answer they store, or None once this request
        should compute it itself (ROOM_LIST_FILL_WAIT_MS went by, or the claim was given up and
        is now this request's)."""
        deadline = time.monotonic() + settings.ROOM_LIST_FILL_WAIT_MS / 1000
        while time.monotonic() < deadline:
            time.sleep(FILL_POLL_MS / 1000)
            body = self.get(claim=True)
            if body is not None or self.claimed:
                return body
        return None


class AnswerCache(_Entry):
    """The cache entry of an answer named by `field` (the Xiaozhibo FetchList's pages)."""

    keeps_stale = False

    def __init__(self, field):
        self.field = field

    @classmethod
    def named(cls, field):
        """The entry, or None when caching is off."""
        return cls(field) if enabled() else None

    get = PageCache.get


class RoomAnswerCache(AnswerCache):
    """The cache entry of an answer about one room that the caller names without its id (the
    Xiaozhibo GetUserInfo names the anchor). The room id is stored with the body, so `get()`
    patches in the room's current counts in the same round trip; `count_keys` are the JSON keys
    of the viewer and like counts in the body."""

    def __init__(self, field, count_keys=ROOM_COUNT_KEYS):
        super().__init__(field)
        self.count_keys = count_keys

    @classmethod
    def named(cls, field, count_keys=ROOM_COUNT_KEYS):
        return cls(field, count_keys) if enabled() else None

    def get(self) -> bytes | None:
        reply = _scripts().bound(
            keys=[key("answers"), key("answers", "version"), key("counters", "counts")], args=[self.field, _ttl_ms()]
        )
        self.version = reply[0]
        if len(reply) == 1:
            return None
        return _with_counts(*reply[1:], keys=self.count_keys)

    def set(self, body: bytes, *, room_id):
        super().set(b"%d\n" % room_id + body)


class RoomCache(_Entry):
    """The cache entry of one live room's detail; `get()` answers with its current counts."""

    def __init__(self, room_id):
        self.room_id, self.field = str(room_id), f"room:{room_id}"

    @classmethod
    def for_room(cls, room_id):
        return cls(room_id) if enabled() else None

    def get(self) -> bytes | None:
        reply = _scripts().room(
            keys=[key("answers"), key("answers", "version"), key("counters", "counts")],
            args=[self.field, self.room_id, _ttl_ms()],
        )
        self.version = reply[0]
        if len(reply) == 1:
            return None
        return _with_counts(*reply[1:])

    def stale(self) -> bytes | None:
        if not self._keeps_stale():
            return None
        counts = [f"{self.room_id}:viewer_count", f"{self.room_id}:like_count"]
        try:
            body, counts = (
                get_redis().pipeline().get(self._stale_key()).hmget(key("counters", "counts"), counts).execute()
            )
        except UNREACHABLE:
            return None
        return body and _with_counts(body, *counts)


def _with_counts(body, viewers, likes, keys=ROOM_COUNT_KEYS):
    """A room's cached body with the counts Redis holds now (none: as stored); `keys` are the
    JSON keys of its viewer and like counts."""
    if viewers is None:
        return body
    for name, value in zip(keys, (viewers, likes), strict=True):
        # The keys can only match where they are keys: inside a JSON string their quotes are escaped.
        body = _count_pattern(name).sub(b'"' + name + b'":' + value, body, count=1)
    return body


@functools.cache
def _count_pattern(name):
    return re.compile(b'"' + re.escape(name) + rb'":\d+')


def json_response(body: bytes) -> HttpResponse:
    response = HttpResponse(body, content_type="application/json")
    response["Vary"] = "Accept"  # as DRF's own answers: the body depends on the negotiated format
    return response


def invalidate():
    """Forget every cached answer (the list's membership or a listed room changed). Without
    Redis there is nothing to forget: answers cached before it went away expire by themselves."""
    if settings.REDIS_URL:
        try:
            get_redis().pipeline().incr(key("answers", "version")).delete(key("answers")).execute()
        except UNREACHABLE:
            log.warning("cached answers not invalidated, Redis unreachable; they expire by themselves")


_scripts = scripts(store=_STORE, page=_LOOKUP_PAGE, room=_LOOKUP_ROOM, bound=_LOOKUP_BOUND)


def follow_status(room_id, old_status, new_status):
    """A room joined or left the list (called by `services` once a transition commits): answers go."""
    if Room.Status.LIVE not in (old_status, new_status):
        return
    try:
        invalidate()
    except redis.RedisError:
        log.warning("list cache not invalidated for room %s; answers expire by themselves", room_id, exc_info=True)
