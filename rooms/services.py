"""The only writer of `Room.status`.

Every transition is a guarded conditional UPDATE: it applies only when the room is still in
one of the allowed states, records one `RoomEvent`, and returns False (not an error) when
another actor got there first. Cloud events carry `sequence` and `event_time`; a stream-end
for another push sequence, or an event older than the last one applied, changes nothing.
"""

import secrets
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from . import counters, hooks, listcache
from .models import Recording, Room, RoomEvent
from .signals import room_status_changed

Status = Room.Status
Source = RoomEvent.Source


class StreamerBanned(PermissionDenied):
    """The owner is banned from streaming: `reason`, and `until` (None: for good)."""

    def __init__(self, ban):
        self.reason = ban.reason
        self.until = ban.until
        end = f"until {ban.until:%Y-%m-%d %H:%M} UTC" if ban.until else "for good"
        super().__init__(f"You are banned from streaming {end}: {ban.reason}")


def new_stream_id() -> str:
    """`{BIZID}_` + 20 random hex digits: unguessable, and valid in live-code mode."""
    return f"{settings.TENCENT_LIVE_BIZID}_{secrets.token_hex(10)}"


def create_room(owner, *, title, cover_url="", location="", source=Source.API, idempotency_key="") -> Room:
    """Open a new room for `owner`, closing any open room of theirs as `replaced`.

    With an `idempotency_key`, a retry of the same request returns the room the first one
    opened (whatever its state now) instead of replacing it.

    Creations by one owner are serialised on the owner's row, so two racing requests end with
    exactly one open room (the database constraint backs this up); a streamer ban takes the
    same lock, so a banned owner gets no room (who is banned is asked of `hooks.streamer_ban`).
    Raises `StreamerBanned` while a ban holds, for a retry with an old `idempotency_key` too.

    The lock is `FOR NO KEY UPDATE` (see `lock_owner`), not `FOR UPDATE`: it must not block the
    `KEY SHARE` lock PostgreSQL takes on the owner's row for every foreign key that names them
    (a `RoomEvent.actor`, a new room's `owner`). With `FOR UPDATE`, a go-live of the previous room
    (which holds that room and then needs `KEY SHARE` on the owner) and this creation (which
    holds the owner and then needs that room, to close it) waited for each other: a deadlock.
    """
    with transaction.atomic():
        lock_owner(owner)
        ban = hooks.streamer_ban(owner)
        if ban:  # before the retry lookup: an old key must not hand a banned owner a push URL
            raise StreamerBanned(ban)
        if idempotency_key:
            earlier = Room.objects.filter(owner=owner, idempotency_key=idempotency_key).first()
            if earlier:
                return earlier
        for previous in Room.objects.filter(owner=owner, status__in=Room.OPEN_STATUSES):
            close_room(previous, reason=Room.CloseReason.REPLACED, source=source, actor=owner)
        return Room.objects.create(
            owner=owner,
            stream_id=new_stream_id(),
            title=title,
            cover_url=cover_url,
            location=location,
            idempotency_key=idempotency_key,
        )


def lock_owner(user) -> None:
    """Serialise room creations and streamer bans of `user` (inside a transaction).

    `FOR NO KEY UPDATE` conflicts with itself and with `FOR UPDATE`, so creations and bans still
    queue behind one another, but not with the `KEY SHARE` locks of foreign-key checks: writers
    of rows that merely name the user (room events, audit rows) never wait for it.
    """
    get_user_model().objects.select_for_update(no_key=True).filter(pk=user.pk).first()


def mark_live(room, *, source, actor=None, sequence="", event_time: datetime | None = None) -> bool:
    """created / interrupted → live. On a room already live, a new push `sequence` is adopted
    (a quick reconnect) without a new event. Returns True when the status changed."""
    now = timezone.now()
    fields = _live_fields(now)
    if sequence:
        fields["push_sequence"] = sequence
    changed = _transition(
        room,
        Status.LIVE,
        (Status.CREATED, Status.INTERRUPTED),
        source=source,
        actor=actor,
        event_time=event_time,
        **fields,
    )
    if not changed and sequence:
        Room.objects.filter(_newer(event_time), pk=room.pk, status=Status.LIVE).exclude(push_sequence=sequence).update(
            push_sequence=sequence, last_seen_live_at=now, offline_strikes=0, **_event_fields(event_time)
        )
    return changed


def mark_interrupted(room, *, source, sequence="", event_time: datetime | None = None) -> bool:
    """live → interrupted, only for the current push `sequence`; without one, only while the
    room's push sequence is unknown (a body without sequence cannot end a push we know)."""
    guard = Q(push_sequence__in={"", sequence})
    return _transition(
        room,
        Status.INTERRUPTED,
        (Status.LIVE,),
        source=source,
        guard=guard,
        event_time=event_time,
        interrupted_at=timezone.now(),
    )


def close_room(room, *, reason, source, actor=None, event_time: datetime | None = None, guard=None) -> bool:
    """Any open state → closed with `reason` (a `Room.CloseReason`). Idempotent."""
    return _transition(
        room,
        Status.CLOSED,
        Room.OPEN_STATUSES,
        source=source,
        actor=actor,
        reason=reason,
        event_time=event_time,
        guard=guard,
        close_reason=reason,
        ended_at=timezone.now(),
    )


def ban_room(room, *, source=Source.ADMIN, actor=None, reason="") -> bool:
    """Any state but banned → banned. The room leaves the list at once."""
    allowed = (*Room.OPEN_STATUSES, Status.CLOSED)
    return _transition(
        room,
        Status.BANNED,
        allowed,
        source=source,
        actor=actor,
        reason=reason,
        ended_at=Coalesce(F("ended_at"), timezone.now()),
    )


def heal_room(room, *, source=Source.SWEEPER, interrupted_before: datetime | None = None) -> bool:
    """created / interrupted → live because the cloud reports the stream online (its push
    callback was lost). That push's sequence is unknown, so `push_sequence` is cleared and the
    next stream-end applies whatever its sequence. With `interrupted_before` (when the cloud's
    answer was asked for), a room interrupted since then is left alone: the answer is stale for it."""
    guard = Q(status=Status.CREATED) | Q(interrupted_at__lt=interrupted_before) if interrupted_before else None
    return _transition(
        room,
        Status.LIVE,
        (Status.CREATED, Status.INTERRUPTED),
        source=source,
        guard=guard,
        reason="stream online at the cloud",
        push_sequence="",
        **_live_fields(timezone.now()),
    )


def note_online(room_ids, *, now=None) -> int:
    """Live rooms the cloud reports online: strikes reset, `last_seen_live_at` = now. The count updated."""
    now = now or timezone.now()
    return sum(
        Room.objects.filter(pk__in=chunk, status=Status.LIVE).update(offline_strikes=0, last_seen_live_at=now)
        for chunk in _chunks(room_ids)
    )


def note_offline(room_ids) -> list[int]:
    """Live rooms missing from the cloud's online list get one more strike. Returns the ids of those
    that now have OFFLINE_STRIKES or more (to be closed as zombies)."""
    reached = []
    for chunk in _chunks(room_ids):
        live = Room.objects.filter(pk__in=chunk, status=Status.LIVE)
        live.update(offline_strikes=F("offline_strikes") + 1)
        reached += live.filter(offline_strikes__gte=settings.OFFLINE_STRIKES).values_list("pk", flat=True)
    return reached


def close_zombie(room) -> bool:
    """live → closed (`zombie`), only while the room still has OFFLINE_STRIKES strikes."""
    guard = Q(status=Status.LIVE, offline_strikes__gte=settings.OFFLINE_STRIKES)
    return close_room(room, reason=Room.CloseReason.ZOMBIE, source=Source.SWEEPER, guard=guard)


def set_snapshot(room, url) -> bool:
    """The room's latest screenshot (Tencent's screenshot callback)."""
    return bool(Room.objects.filter(pk=room.pk).update(snapshot_url=url))


EDITABLE_FIELDS = ("title", "cover_url", "location")


def update_room(room, **fields) -> None:
    """Change a room's title, cover_url or location (for the API's PATCH and the admin). Writes
    only these columns, so a transition made meanwhile stays; cached answers go (a listed room's,
    or a Xiaozhibo GetUserInfo naming a room that is not live yet)."""
    if unknown := set(fields) - set(EDITABLE_FIELDS):
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    if not fields:
        return
    Room.objects.filter(pk=room.pk).update(**fields)
    room.refresh_from_db()
    listcache.invalidate()


def add_recording(room, **fields) -> Recording:
    """A recording file of the room's stream (Tencent's recording callback)."""
    return Recording.objects.create(room=room, **fields)


def _live_fields(now):
    return {
        "started_at": Coalesce(F("started_at"), now),
        "interrupted_at": None,
        "last_seen_live_at": now,
        "offline_strikes": 0,
    }


def _chunks(ids, size=5000):
    ids = list(ids)
    return (ids[i : i + size] for i in range(0, len(ids), size))


def _newer(event_time):
    if event_time is None:
        return Q()
    return Q(last_event_at__isnull=True) | Q(last_event_at__lte=event_time)


def _event_fields(event_time):
    # Never ahead of our clock: an event dated ahead must not make later genuine ones look stale.
    return {"last_event_at": min(event_time, timezone.now())} if event_time is not None else {}


def _transition(room, new, allowed, *, source, actor=None, reason="", guard=None, event_time=None, **fields) -> bool:
    guard = (guard or Q()) & _newer(event_time)
    fields.update(_event_fields(event_time))
    for old in allowed:
        with transaction.atomic():
            if not Room.objects.filter(guard, pk=room.pk, status=old).update(status=new, **fields):
                continue
            RoomEvent.objects.create(
                room_id=room.pk, old_status=old, new_status=new, reason=reason or "", actor=actor, source=source
            )
            transaction.on_commit(lambda old=old: _status_changed(room.pk, old, new))
        room.refresh_from_db()
        return True
    return False


def _status_changed(room_id, old, new):
    """After a transition commits: rooms' own followers (the counters, the list cache) first, then
    `room_status_changed` for the parts above rooms (see `signals`)."""
    counters.follow_status(room_id, old, new)
    listcache.follow_status(room_id, old, new)
    room_status_changed.send(sender=Room, room_id=room_id, old_status=old, new_status=new)
