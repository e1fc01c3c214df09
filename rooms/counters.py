"""Viewer and like counters (SPEC §5).

Embedded mode (no REDIS_URL): a change is one atomic UPDATE of the room row.

Redis mode: Redis holds the current counts of live rooms and the database follows them.

    counts   hash  "{id}:viewer_count", "{id}:like_count", "{id}:seq" (seq grows with every change)
    live     set   ids of live rooms: only they accept changes
    ready    key   present while `live` is trusted; gone after a Redis restart, expires after a while
    dirty    set   ids changed since the last flush
    batches  set   names of dirty sets taken by flushes that have not finished
    gen      int   bumped whenever counts are dropped from Redis (see `_load_if_live`)

A change is one Lua script (throttle, liveness check, change): one round trip, no query.
`live` follows `room_status_changed`, and is rebuilt from the database by the flush task and
whenever `ready` is missing; a room missing from it is looked up in the database and added back
when it is live. A Redis restart or a missed signal therefore heals itself.

The flush writes absolute counts with their seq (`UPDATE ... WHERE counter_seq < seq`): the same
write twice changes nothing and an older write never replaces a newer one. Dirty ids stay in
Redis until a flush has committed them, and each flush also takes the batches that others left.
A flush killed at any point, or two at once, neither lose nor double count.
"""

import logging
import uuid

import redis
from django.conf import settings
from django.db import connection, transaction
from django.dispatch import receiver

from liveroom.redis import get_redis, key, scripts

from . import lua
from .models import Room
from .signals import counts_changed, room_status_changed

log = logging.getLogger(__name__)

FIELDS = ("viewer_count", "like_count")
LIVE = Room.Status.LIVE
THROTTLED, UNKNOWN, NOT_LIVE = -3, -2, -1
CHUNK = 2000  # rooms per Redis command batch in the flush
_ROW = ("pk", "viewer_count", "like_count", "counter_seq")


class Throttled(Exception):
    def __init__(self, wait: int):
        super().__init__(f"retry in {wait} s")
        self.wait = wait


def uses_redis() -> bool:
    return bool(settings.REDIS_URL)


def increment(room_id: int, field: str, amount: int = 1, *, throttle=None) -> int | None:
    """Add `amount` (negative to take away) to a live room's counter.

    Returns the new count, never below 0, or None when the room is not live (or does not exist).
    `throttle` is `(redis_key, limit, window_seconds)`: in Redis mode, past `limit` changes in the
    window it raises `Throttled(wait)`, counted in the same round trip as the change.
    """
    if field not in FIELDS:
        raise ValueError(f"unknown counter {field!r}")
    if not uses_redis():
        return _increment_db(room_id, field, amount)
    value = _change(room_id, field, amount, throttle)
    if value == UNKNOWN:
        sync_live()
        value = _change(room_id, field, amount, None)
    if value == NOT_LIVE and _load_if_live(room_id):
        value = _change(room_id, field, amount, None)
    return value if value >= 0 else None


def with_pending(rooms):
    """The rooms (a list) with the counts users should see: Redis's where it holds newer ones.

    One round trip for up to CHUNK rooms; nothing to do in embedded mode.
    """
    rooms = list(rooms)
    if not uses_redis() or not rooms:
        return rooms
    held = {pk: counts for pk, *counts in _read_counts([room.pk for room in rooms])}
    for room in rooms:
        viewers, likes, seq = held.get(room.pk, (0, 0, -1))
        if seq >= room.counter_seq:
            room.viewer_count, room.like_count = viewers, likes
    return rooms


def flush() -> int:
    """Write the counts of rooms changed since the last flush to the database.

    Returns how many rooms were written. Safe to kill at any point and to run concurrently.
    """
    if not uses_redis():
        return 0
    client = get_redis()
    batch = key("counters", "batch", uuid.uuid4().hex)
    names = _scripts().claim(keys=[_key("dirty"), _key("batches"), batch])
    if not names:
        return 0
    rows = _read_counts(sorted(int(pk) for pk in client.sunion(names)))
    if rows:
        _write(rows)
    for start in range(0, len(rows), CHUNK):
        pairs = [part for row in rows[start : start + CHUNK] for part in (row[0], row[3])]
        _scripts().drop(keys=[_key("counts"), _key("live"), _key("gen")], args=pairs)
    client.pipeline().delete(*names).srem(_key("batches"), *names).execute()
    return len(rows)


def sync_live() -> bool:
    """Rebuild the live set from the database, loading the counts of live rooms Redis lacks.

    Rooms that left it are marked dirty, so the next flush writes and drops their counts.
    """
    if not uses_redis():
        return True
    for _ in range(3):
        gen = get_redis().get(_key("gen"))
        rows = Room.objects.filter(status=LIVE).values_list(*_ROW)
        flat = [part for row in rows for part in row]
        keys = [_key("counts"), _key("live"), _key("ready"), _key("dirty"), _key("gen"), _key("live", "next")]
        if _scripts().sync(keys=keys, args=[gen or "", _live_set_ttl(), *flat]):
            return True
    return False


def _change(room_id, field, amount, throttle):
    throttle_key, limit, window = throttle or (_key("unthrottled"), "", "")
    keys = [_key("counts"), _key("live"), _key("ready"), _key("dirty"), throttle_key, changes_channel()]
    reply = _scripts().change(keys=keys, args=[room_id, field, amount, limit, window])
    if reply[0] == THROTTLED:
        raise Throttled(max(int(reply[1]), 1))
    return reply[0]


def _load_if_live(room_id) -> bool:
    """Add a room that the database says is live to the live set (heals a missed signal).

    The database read must not predate a flush that committed newer counts and then dropped
    them from Redis; `gen` changes when counts are dropped, so a load that saw it change retries.
    """
    for _ in range(3):
        gen = get_redis().get(_key("gen"))
        row = Room.objects.filter(pk=room_id, status=LIVE).values_list(*_ROW).first()
        if row is None:
            return False
        if _scripts().load(keys=[_key("counts"), _key("live"), _key("gen")], args=[gen or "", *row]):
            return True
    return False


def _read_counts(ids):
    """[(id, viewers, likes, seq)] of the rooms whose counts Redis holds, read in chunks so that
    Redis never stalls long on one command; each room's three fields are read together."""
    rows = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        values = get_redis().hmget(_key("counts"), [f"{pk}:{name}" for pk in chunk for name in (*FIELDS, "seq")])
        for n, pk in enumerate(chunk):
            viewers, likes, seq = values[3 * n : 3 * n + 3]
            if seq is not None:
                rows.append((pk, int(viewers), int(likes), int(seq)))
    return rows


def _write(rows):
    ids, viewers, likes, seqs = (list(column) for column in zip(*sorted(rows), strict=True))
    table = connection.ops.quote_name(Room._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Lock in id order first, so that concurrent flushes queue instead of deadlocking.
            cursor.execute(f"SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id FOR UPDATE", [ids])
            cursor.execute(
                f"UPDATE {table} AS r SET viewer_count = d.v, like_count = d.l, counter_seq = d.s"
                " FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[]) AS d(id, v, l, s)"
                " WHERE r.id = d.id AND r.counter_seq < d.s",
                [ids, viewers, likes, seqs],
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET viewer_count = %s, like_count = %s, counter_seq = %s"
                " WHERE id = %s AND counter_seq < %s",
                [(v, n, s, pk, s) for pk, v, n, s in zip(ids, viewers, likes, seqs, strict=True)],
            )


def _increment_db(room_id, field, amount):
    table, column = connection.ops.quote_name(Room._meta.db_table), connection.ops.quote_name(field)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = CASE WHEN {column} + %s > 0 THEN {column} + %s ELSE 0 END"
            f" WHERE id = %s AND status = %s RETURNING {column}, viewer_count, like_count",
            [amount, amount, room_id, LIVE],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    transaction.on_commit(lambda: counts_changed.send(Room, room_id=room_id, viewer_count=row[1], like_count=row[2]))
    return row[0]


def changes_channel() -> str:
    """The Redis pub/sub channel where every change of a room's counts is published, as
    `{"id", "viewer_count", "like_count"}`, by the change itself (no extra round trip)."""
    return _key("changes")


def _key(*parts):
    return key("counters", *parts)


def _live_set_ttl():
    return max(60, 3 * settings.COUNTER_FLUSH_INTERVAL)


_scripts = scripts(change=lua.CHANGE, load=lua.LOAD, sync=lua.SYNC, claim=lua.CLAIM, drop=lua.DROP)


@receiver(room_status_changed, dispatch_uid="counters_follow_status")
def _follow_status(sender, room_id, old_status, new_status, **kwargs):
    """Keep the live set in step with the room; a failure here heals later (see module doc)."""
    if not uses_redis() or LIVE not in (old_status, new_status):
        return
    try:
        if new_status == LIVE:
            _load_if_live(room_id)
        else:
            get_redis().pipeline().srem(_key("live"), room_id).sadd(_key("dirty"), room_id).execute()
    except redis.RedisError:
        log.warning("live set not updated for room %s; the next sync repairs it", room_id, exc_info=True)
