"""Point-in-time snapshots of the list's order, for cursor walks of the count orderings.

Counts move all the time, so a keyset on `(viewer_count, id)` reshuffles under a reader: a room
whose count crosses the reader's position is shown twice or never. Instead the first page pins
the order of every listed id in a Redis list for LIST_SNAPSHOT_TTL seconds, and cursors walk
that list by offset. The snapshot is named by a digest of its filters and ids, so readers who
see the same order share one key (a cached first page hands the same one to everybody).

Each call is one round trip: a script that stores (or reads a slice of) the snapshot and reads
the current counts of the page's rooms in the same step.
"""

import hashlib

from django.conf import settings

from infra.redis import get_redis, key, scripts

from . import counters

# A page's counts. KEYS[2]: the counts hash; ARGV[3..5]: the field suffixes (counters.COUNT_SUFFIXES).
_COUNTS = """
local function counts(ids)
  if #ids == 0 then return {} end
  local fields = {}
  for _, id in ipairs(ids) do
    for s = 3, 5 do fields[#fields + 1] = id .. ARGV[s] end
  end
  return redis.call('HMGET', KEYS[2], unpack(fields))
end
"""

# KEYS: snapshot, counts.  ARGV: ttl, ids on the first page, suffixes x3, ids...
# The same name means the same ids, so a snapshot that exists is kept (its lifetime renewed).
_PIN = (
    _COUNTS
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then
  for i = 6, #ARGV, 1000 do redis.call('RPUSH', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV))) end
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return counts({unpack(ARGV, 6, 5 + tonumber(ARGV[2]))})
"""
)

# KEYS: snapshot, counts.  ARGV: first index, last index, suffixes x3.
# Returns {-1} when the snapshot is gone, else {length, ids, counts}.
_SLICE = (
    _COUNTS
    + """
local length = redis.call('LLEN', KEYS[1])
if length == 0 then return {-1} end
local ids = redis.call('LRANGE', KEYS[1], ARGV[1], ARGV[2])
return {length, ids, counts(ids)}
"""
)

_scripts = scripts(pin=_PIN, slice=_SLICE)


def enabled() -> bool:
    """Snapshots need Redis; LIST_SNAPSHOT_TTL=0 turns them off (the count orderings then walk a keyset)."""
    return bool(settings.REDIS_URL) and settings.LIST_SNAPSHOT_TTL > 0


def _key(name):
    return key("rooms", "snapshot", name)


def pin(scope: str, ids: list[int], first: int) -> tuple[str, list]:
    """Store the order `ids` (a walk of the list under `scope`) and read the counts of its first
    `first` rooms. Returns the snapshot's name and those counts (for `counters.with_counts`)."""
    digest = hashlib.blake2b(scope.encode(), digest_size=12)
    digest.update(b",".join(b"%d" % pk for pk in ids))
    name = digest.hexdigest()
    values = _scripts().pin(
        keys=[_key(name), counters.counts_key()],
        args=[settings.LIST_SNAPSHOT_TTL, first, *counters.COUNT_SUFFIXES, *ids],
    )
    return name, values


def read(name: str, offset: int, size: int) -> tuple[int, list[int], list] | None:
    """`size` ids of snapshot `name` from `offset`, with the snapshot's length and the ids'
    current counts; None when the snapshot expired (or never was)."""
    reply = _scripts().slice(
        keys=[_key(name), counters.counts_key()], args=[offset, offset + size - 1, *counters.COUNT_SUFFIXES]
    )
    if reply[0] == -1:
        return None
    length, ids, values = reply
    return length, [int(pk) for pk in ids], values


def exists(name: str) -> bool:
    return bool(get_redis().exists(_key(name)))
