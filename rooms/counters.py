"""Viewer and like counters (SPEC §5): the one path every join, heartbeat, leave and like takes.

The REST API's counter views (`rooms.counter_views`), the web pages (through that API) and the
Xiaozhibo actions all call `like`, `join`, `heartbeat` and `leave` here. This module alone
decides between Redis and the database, and applies the counter throttle (per user when the
client is signed in, per address otherwise: `client()`).

Viewers. `viewer_count` is who is watching now. A viewer is `u<user id>` (all of a user's tabs
and devices are one viewer) or `a<random>` for an anonymous one; `join` names them in a signed
`viewer_token` for the room (`token_for` / `viewer_of`). A viewer counts until the latest time a
join or heartbeat gave them (VIEWER_TIMEOUT ahead; an EnterGroup, XIAOZHIBO_VIEWER_TIMEOUT), or
until they leave. `view_count`
counts each viewer of the room once; `peak_viewer_count` is the most watching at once. A room
that leaves live has nobody watching; its views and peak stay.

Embedded mode (no REDIS_URL): a like is one atomic UPDATE of the room row; a viewer is a
`RoomViewer` row, and a change recounts the room's unexpired rows under the room's row lock.

Redis mode: Redis holds the current counts of live rooms and the database follows them.

    counts       hash  "{id}:viewer_count", ":like_count", ":peak", ":views", ":vbase" (views the
                       HyperLogLog does not hold, after a Redis restart) and ":seq" (grows with
                       every change)
    viewers:{id} zset  viewer → the time they stop counting (Redis's clock, ms)
    views:{id}   HLL   every viewer so far; PFCOUNT's standard error is 0.81 %
    live         set   ids of live rooms: only they accept changes
    ready        key   present while `live` is trusted; gone after a Redis restart, expires after a while
    dirty        set   ids changed since the last flush
    batches      set   names of dirty sets taken by flushes that have not finished
    gen          int   bumped whenever counts are dropped from Redis (see `_load_if_live`)

A change is one Lua script (throttle, liveness check, change): one round trip, no query. A
viewer change first drops the room's expired viewers (ZREMRANGEBYSCORE: each is dropped once,
so O(log n) amortised per request, never a scan of the room's viewers); the flush does the same
for every live room once per COUNTER_FLUSH_INTERVAL, so that rooms nobody touches drop too.
`live` follows each status change (`follow_status`, after it commits), and is rebuilt from the database by the flush task and
whenever `ready` is missing; a room missing from it is looked up in the database and added back
when it is live. A Redis restart or a missed update therefore heals itself.

The flush writes absolute counts with their seq (`UPDATE ... WHERE counter_seq < seq`): the same
write twice changes nothing and an older write never replaces a newer one. Dirty ids stay in
Redis until a flush has committed them, and each flush also takes the batches that others left.
A flush killed at any point, or two at once, neither lose nor double count.

Redis errors are not caught here: scripts run through `_run`, and what Redis raises reaches the
caller as `redis.RedisError`.
"""

import logging
import secrets
import uuid
from datetime import timedelta

import redis
from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from rest_framework.throttling import BaseThrottle

from infra.redis import UNREACHABLE, get_redis, key, pubsub_key, scripts
from monitoring import metrics

from . import lua
from .models import Room, RoomViewer
from .signals import counts_changed
from .throttling import CounterThrottle

# DRF's reading of the client address (X-Forwarded-For behind NUM_PROXIES); a BaseThrottle has no
# rate to parse, so one serves every request
_IDENT = BaseThrottle()

log = logging.getLogger(__name__)

FIELDS = ("viewer_count", "like_count")
COUNT_SUFFIXES = (":viewer_count", ":like_count", ":seq")  # a room's fields in `counts`: f"{id}{suffix}"
LIVE = Room.Status.LIVE
FINAL = (Room.Status.CLOSED, Room.Status.BANNED)
THROTTLED, UNKNOWN, NOT_LIVE = -3, -2, -1
CHUNK = 2000  # rooms per Redis command batch in the flush
VIEWS_TTL = 7 * 86400  # seconds a room's views HyperLogLog outlives its last new viewer
# Redis hash fields of a room, and the Room columns they follow, in the order scripts take them.
_FIELDS = ("viewer_count", "like_count", "seq", "peak", "views")
_ROW = ("pk", "viewer_count", "like_count", "counter_seq", "peak_viewer_count", "view_count")
_TOKEN_SALT = "rooms.viewer_token"
_TOKEN_SIGNER = signing.Signer(salt=_TOKEN_SALT)  # made once: a heartbeat checks a token every time


class Throttled(Exception):
    def __init__(self, wait: int):
        super().__init__(f"retry in {wait} s")
        self.wait = wait


class NotLive(Exception):
    """The room is not live, or does not exist."""


class BadToken(ValueError):
    """A viewer_token that this server did not sign, or signed for another room."""


def uses_redis() -> bool:
    return bool(settings.REDIS_URL)


# --- who is counting -----------------------------------------------------------------------------


def client(request, *, user_id=None) -> str:
    """The throttle's name for who sends `request`: its user when known, else its address
    (read as DRF's throttles read it, trusting X-Forwarded-For only behind DJANGO_NUM_PROXIES)."""
    if user_id is not None:
        return f"user:{user_id}"
    return f"addr:{_IDENT.get_ident(request)}"


def client_of_viewer(request, viewer) -> str:
    """The throttle's name for a heartbeat / leave: the token's user, else the address."""
    return client(request, user_id=viewer[1:] if viewer.startswith("u") else None)


def new_viewer(user_id=None) -> str:
    """The viewer a join counts: the user (once, however many tabs), else a new anonymous one."""
    return f"u{user_id}" if user_id is not None else f"a{secrets.token_urlsafe(9)}"


def token_for(room_id, viewer) -> str:
    return _TOKEN_SIGNER.sign(f"{room_id}.{viewer}")


def viewer_of(room_id, token) -> str:
    """The viewer a token names, when it was signed here for this room; else BadToken."""
    try:
        value = _TOKEN_SIGNER.unsign(token)
    except signing.BadSignature:
        raise BadToken("This viewer_token is not valid: use the one join returned.") from None
    room, _, viewer = value.partition(".")
    if room != str(room_id):
        raise BadToken("This viewer_token belongs to another room.")
    return viewer


# --- changes -------------------------------------------------------------------------------------


def like(room_id, amount=1, client=None) -> int:
    """Add `amount` likes (negative to take some back, never below 0); returns the new count.

    Raises NotLive, or Throttled when `client` (see `client()`) sent too many changes;
    `client=None` is not throttled (for the server's own use).
    """
    return _count(room_id, "like", amount, 0, client)


def join(room_id, viewer, client=None, *, timeout=None) -> int:
    """Count `viewer` as watching for `timeout` seconds (VIEWER_TIMEOUT); returns watching now."""
    return _count(room_id, "join", viewer, timeout or settings.VIEWER_TIMEOUT, client)


def heartbeat(room_id, viewer, client=None) -> int:
    """`viewer` still watches: counts them VIEWER_TIMEOUT longer (again, once, after a lapse)."""
    return _count(room_id, "beat", viewer, settings.VIEWER_TIMEOUT, client)


def leave(room_id, viewer, client=None) -> int:
    """`viewer` stopped watching (a repeat changes nothing); returns watching now."""
    return _count(room_id, "leave", viewer, 0, client)


def join_all(room_id, viewers, *, batch=1000) -> int:
    """Count many viewers of a live room (seeding a bench, an import), unthrottled, with a round
    trip per `batch` of them instead of one each. Returns watching now."""
    viewers = list(viewers)
    count = join(room_id, viewers[0])  # loads the room, or raises NotLive
    if not uses_redis():
        for viewer in viewers[1:]:
            count = join(room_id, viewer)
        return count
    for start in range(1, len(viewers), batch):
        chunk = viewers[start : start + batch]
        pipe = get_redis().pipeline(transaction=False)
        for viewer in chunk:
            _change(room_id, "join", viewer, settings.VIEWER_TIMEOUT, None, client=pipe)
        for viewer, (count,) in zip(chunk, pipe.execute(), strict=True):
            if count < 0:  # the live set expired or lost the room meanwhile: the one-by-one path heals it
                count = join(room_id, viewer)
    return count


def watching(room_id) -> list[str]:
    """The viewers of a room watching now (all of them: for small rooms and the Xiaozhibo
    member list, not for hot paths)."""
    if not uses_redis():
        rows = RoomViewer.objects.filter(room_id=room_id, expires_at__gt=timezone.now())
        return list(rows.order_by("viewer").values_list("viewer", flat=True))
    return [member.decode() for member in _run("watching", [_key("viewers", room_id)], [])]


def _count(room_id, op, arg, timeout, client):
    room_id = int(room_id)
    throttle = _throttle(client)
    if not uses_redis():
        value = _like_db(room_id, arg) if op == "like" else _viewer_db(room_id, op, arg, timeout)
        if value is None:
            raise NotLive(room_id)
        _counted(op, arg)
        if counts_changed.has_listeners():
            transaction.on_commit(lambda: _announce_db(room_id))
        return value
    value = _change(room_id, op, arg, timeout, throttle)
    if value == UNKNOWN:
        sync_live()
        value = _change(room_id, op, arg, timeout, None)
    if value == NOT_LIVE and _load_if_live(room_id):
        value = _change(room_id, op, arg, timeout, None)
    if value < 0:
        raise NotLive(room_id)
    _counted(op, arg)
    return value


def _counted(op, arg):
    """The metrics of a change that went through: likes by their amount, each join once."""
    if op == "like":
        metrics.counted("like_count", arg)
    elif op == "join":
        metrics.counted("viewer_count", 1)


def _throttle(client):
    """Redis mode: the `(key, limit, window)` the change script applies in its round trip.
    Embedded mode: DRF's cache-based throttle, applied here."""
    if client is None:
        return None
    throttle = CounterThrottle(client)
    if throttle.rate is None:
        return None
    if uses_redis():
        return key("throttle", throttle.scope, client), throttle.num_requests, throttle.duration
    if not throttle.allow_request(None, None):
        raise Throttled(max(int(throttle.wait() or 1), 1))
    return None


def _change(room_id, op, arg, timeout, throttle, client=None):
    throttle_key, limit, window = throttle or (_key("unthrottled"), "", "")
    keys = [
        _key("counts"),
        _key("live"),
        _key("ready"),
        _key("dirty"),
        throttle_key,
        _key("viewers", room_id),
        _key("views", room_id),
        changes_channel(),
    ]
    reply = _run("change", keys, [room_id, op, arg, timeout, limit, window, VIEWS_TTL], client)
    if client is not None:
        return None  # a pipeline: the replies come with its execute()
    if reply[0] == THROTTLED:
        raise Throttled(max(int(reply[1]), 1))
    return reply[0]


# --- reads and the flush ---------------------------------------------------------------------------


def with_pending(rooms):
    """The rooms (a list) with the counts users should see: Redis's where it holds newer ones.

    One round trip for up to CHUNK rooms; nothing to do in embedded mode. While Redis cannot be
    reached, the counts are those last flushed.
    """
    rooms = list(rooms)
    if not uses_redis() or not rooms:
        return rooms
    try:
        rows = _read_counts([room.pk for room in rooms])
    except UNREACHABLE:
        return rooms
    return _apply(rooms, rows)


def counts_key() -> str:
    """The hash of the counts; a room's fields are `{id}{suffix}` for each of COUNT_SUFFIXES."""
    return _key("counts")


def with_counts(rooms, ids, values):
    """`with_pending` for counts read elsewhere in a round trip of its own (a script of another
    module): `values` is HMGET of each of `ids`' COUNT_SUFFIXES fields of `counts_key()`, in order."""
    return _apply(list(rooms), _rows(ids, values))


def _apply(rooms, rows):
    held = {pk: counts for pk, *counts in rows}
    for room in rooms:
        viewers, likes, seq, peak, views = held.get(room.pk, (0, 0, -1, None, None))
        if seq >= room.counter_seq:
            room.viewer_count, room.like_count = viewers, likes
            if peak is not None:
                room.peak_viewer_count, room.view_count = peak, views
    return rooms


def flush() -> int:
    """Write the counts of rooms changed since the last flush to the database, after dropping
    every live room's expired viewers. Returns how many rooms were written.

    Safe to kill at any point and to run concurrently. Embedded mode: recounts the live rooms
    whose viewers expired (one UPDATE).
    """
    if not uses_redis():
        return _recount_db()
    client = get_redis()
    live = sorted(int(pk) for pk in client.smembers(_key("live")))
    for start in range(0, len(live), CHUNK):
        _run("trim", [_key("counts"), _key("live"), _key("dirty")], [_key(""), *live[start : start + CHUNK]])
    batch = key("counters", "batch", uuid.uuid4().hex)
    names = _run("claim", [_key("dirty"), _key("batches"), batch], [])
    if not names:
        return 0
    rows = _read_counts(sorted(int(pk) for pk in client.sunion(names)))
    if rows:
        _write(rows)
    for start in range(0, len(rows), CHUNK):
        pairs = [part for row in rows[start : start + CHUNK] for part in (row[0], row[3])]
        _run("drop", [_key("counts"), _key("live"), _key("gen")], [_key(""), *pairs])
    client.pipeline().delete(*names).srem(_key("batches"), *names).execute()
    return len(rows)


def sync_live() -> bool:
    """Rebuild the live set from the database, loading the counts of live rooms Redis lacks.

    Rooms that left it lose their viewers and are marked dirty, so the next flush writes and
    drops their counts. Also sets watching now to 0 in the database for any room not live that
    still shows viewers (in both modes): a room's end is never left showing a crowd. Embedded
    mode: drops the viewer rows of rooms that ended.
    """
    Room.objects.filter(status__in=[s for s in Room.Status if s != LIVE], viewer_count__gt=0).update(viewer_count=0)
    if not uses_redis():
        RoomViewer.objects.filter(room__status__in=FINAL).delete()  # those a missed update left
        return True
    for _ in range(3):
        gen = get_redis().get(_key("gen"))
        rows = Room.objects.filter(status=LIVE).values_list(*_ROW)
        flat = [part for row in rows for part in row]
        keys = [_key("counts"), _key("live"), _key("ready"), _key("dirty"), _key("gen"), _key("live", "next")]
        if _run("sync", keys, [gen or "", _live_set_ttl(), _key(""), *flat]):
            return True
    return False


def _load_if_live(room_id) -> bool:
    """Add a room that the database says is live to the live set (heals a missed update).

    The database read must not predate a flush that committed newer counts and then dropped
    them from Redis; `gen` changes when counts are dropped, so a load that saw it change retries.
    """
    for _ in range(3):
        gen = get_redis().get(_key("gen"))
        row = Room.objects.filter(pk=room_id, status=LIVE).values_list(*_ROW).first()
        if row is None:
            return False
        keys = [_key("counts"), _key("live"), _key("gen"), _key("dirty")]
        if _run("load", keys, [gen or "", _key(""), *row]):
            return True
    return False


def _read_counts(ids):
    """[(id, viewers, likes, seq, peak, views)] of the rooms whose counts Redis holds, read in
    chunks so that Redis never stalls long on one command; each room's fields are read together."""
    rows, width = [], len(_FIELDS)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        values = get_redis().hmget(_key("counts"), [f"{pk}:{name}" for pk in chunk for name in _FIELDS])
        for n, pk in enumerate(chunk):
            viewers, likes, seq, peak, views = values[width * n : width * n + width]
            if seq is not None:
                rows.append((pk, int(viewers), int(likes), int(seq), int(peak or 0), int(views or 0)))
    return rows


def _rows(ids, values):
    """Rows of `with_counts`: HMGET values of COUNT_SUFFIXES (watching now, likes, seq) per room;
    peak and views stay as the database has them."""
    rows = []
    for n, pk in enumerate(ids):
        viewers, likes, seq = values[3 * n : 3 * n + 3]
        if seq is not None:
            rows.append((pk, int(viewers), int(likes), int(seq), None, None))
    return rows


def _write(rows):
    ids, viewers, likes, seqs, peaks, views = (list(column) for column in zip(*sorted(rows), strict=True))
    table = connection.ops.quote_name(Room._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Lock in id order first, so that concurrent flushes queue instead of deadlocking.
            cursor.execute(f"SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id FOR UPDATE", [ids])
            cursor.execute(
                f"UPDATE {table} AS r SET viewer_count = d.v, like_count = d.l, counter_seq = d.s,"
                " peak_viewer_count = d.p, view_count = d.w"
                " FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[])"
                " AS d(id, v, l, s, p, w) WHERE r.id = d.id AND r.counter_seq < d.s",
                [ids, viewers, likes, seqs, peaks, views],
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET viewer_count = %s, like_count = %s, counter_seq = %s,"
                " peak_viewer_count = %s, view_count = %s WHERE id = %s AND counter_seq < %s",
                [
                    (v, n, s, p, w, pk, s)
                    for pk, v, n, s, p, w in zip(ids, viewers, likes, seqs, peaks, views, strict=True)
                ],
            )


# --- embedded mode ----------------------------------------------------------------------------------


def _like_db(room_id, amount):
    table = connection.ops.quote_name(Room._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET like_count = CASE WHEN like_count + %s > 0 THEN like_count + %s ELSE 0 END"
            " WHERE id = %s AND status = %s RETURNING like_count",
            [amount, amount, room_id, LIVE],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _viewer_db(room_id, op, viewer, timeout):
    """A viewer change under the room's row lock (changes of one room queue): exact counts."""
    now = timezone.now()
    with transaction.atomic():
        if not Room.objects.select_for_update().filter(pk=room_id, status=LIVE).exists():
            return None
        seen = RoomViewer.objects.filter(room_id=room_id, viewer=viewer)
        new = False
        if op == "leave":
            seen.filter(expires_at__gt=now).update(expires_at=now)
        elif not seen.update(expires_at=Greatest(F("expires_at"), now + timedelta(seconds=timeout))):
            RoomViewer.objects.create(room_id=room_id, viewer=viewer, expires_at=now + timedelta(seconds=timeout))
            new = True
        count = RoomViewer.objects.filter(room_id=room_id, expires_at__gt=now).count()
        Room.objects.filter(pk=room_id).update(
            viewer_count=count,
            peak_viewer_count=Greatest(F("peak_viewer_count"), count),
            view_count=F("view_count") + int(new),
        )
    return count


def _recount_db():
    table = connection.ops.quote_name(Room._meta.db_table)
    viewers = connection.ops.quote_name(RoomViewer._meta.db_table)
    watching = f"(SELECT COUNT(*) FROM {viewers} v WHERE v.room_id = {table}.id AND v.expires_at > %s)"
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET viewer_count = {watching} WHERE status = %s AND viewer_count <> {watching}",
            [now, LIVE, now],
        )
        return cursor.rowcount


# --- Redis plumbing ----------------------------------------------------------------------------------


def _run(name, keys, args, client=None):
    """Run one of the counter scripts (on `client`, a pipeline, when given): the one place the
    counters' Lua meets Redis."""
    return getattr(_scripts(), name)(keys=keys, args=args, client=client)


def _announce_db(room_id):
    """Embedded mode: tell the real-time events the room's counts (Redis mode: the change script does)."""
    row = Room.objects.filter(pk=room_id).values_list("viewer_count", "like_count").first()
    if row is not None:
        counts_changed.send(Room, room_id=room_id, viewer_count=row[0], like_count=row[1])


def changes_channel() -> str:
    """The Redis pub/sub channel where every change of a room's counts is published, as
    `{"id", "viewer_count", "like_count"}`, by the change itself (no extra round trip)."""
    return pubsub_key("counters", "changes")


def _key(*parts):
    return key("counters", *parts)


def _live_set_ttl():
    return max(60, 3 * settings.COUNTER_FLUSH_INTERVAL)


_scripts = scripts(
    change=lua.CHANGE,
    load=lua.LOAD,
    sync=lua.SYNC,
    off=lua.OFF,
    trim=lua.TRIM,
    watching=lua.WATCHING,
    claim=lua.CLAIM,
    drop=lua.DROP,
)


def follow_status(room_id, old_status, new_status):
    """Keep the counters in step with the room: a room that leaves live has nobody watching.
    Called by `services` once a transition commits. A failure here heals later (see module doc)."""
    if LIVE not in (old_status, new_status):
        return
    if new_status != LIVE:
        Room.objects.filter(pk=room_id).exclude(status=LIVE).update(viewer_count=0)
        if not uses_redis():
            gone = RoomViewer.objects.filter(room_id=room_id)
            if new_status in FINAL:
                gone.delete()
            else:
                gone.filter(expires_at__gt=timezone.now()).update(expires_at=timezone.now())
            return
    if not uses_redis():
        return
    try:
        if new_status == LIVE:
            _load_if_live(room_id)
        else:
            _run("off", [_key("counts"), _key("live"), _key("dirty")], [_key(""), room_id])
    except redis.RedisError:
        log.warning("live set not updated for room %s; the next sync repairs it", room_id, exc_info=True)


def unflushed_rooms() -> int | None:
    """How many rooms have changes Redis holds that no flush has committed yet (0 without Redis;
    None while Redis cannot be reached)."""
    if not uses_redis():
        return 0
    client = get_redis()
    try:
        names = [_key("dirty"), *client.smembers(_key("batches"))]
        return len(client.sunion(names)) if len(names) > 1 else client.scard(_key("dirty"))
    except UNREACHABLE:
        return None
