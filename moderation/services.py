"""Bans of rooms and streamers, their audit rows, and their enforcement at the cloud.

A ban takes effect in our data inside the action's transaction: the room turns `banned` (it
leaves the list at once), the streamer is refused new rooms. The cloud is told afterwards, by
`moderation.tasks.enforce_room_ban` (enqueued on commit), which retries with backoff until the
cloud confirms; a cloud failure never undoes a ban. Each action writes one `ModerationAction`.

A banned room stays banned for good, also after an unban: unbanning lifts the forbid of its
stream at the cloud and ends the ban's record, and the streamer opens a new room.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Min
from django.utils import timezone

import livecloud
from rooms import services as room_services
from rooms.models import Room, RoomEvent

from .models import Decision, Flag, ModerationAction, Report, RoomBan, StreamerBan

logger = logging.getLogger(__name__)

Kind = ModerationAction.Kind
CloudResult = ModerationAction.CloudResult

# Tencent forbids a stream for at most 90 days; a day of margin keeps clock skew from making
# ResumeTime invalid. Longer bans are forbidden again before the cloud's ban runs out.
CLOUD_FORBID_MAX = timedelta(days=89)
CLOUD_RENEW_BEFORE = timedelta(days=1)
# An unconfirmed ban whose enforcement task has not run for this long lost its task (or it gave
# up): the beat task enforces it again. A live retry chain runs at least every `tasks.MAX_BACKOFF`.
CLOUD_STALE_AFTER = timedelta(minutes=15)


# --- rooms ------------------------------------------------------------------------------------


def ban_room(room, *, moderator, reason, until: datetime | None = None) -> RoomBan | None:
    """Ban `room` (any state) until `until` (None: for good) and queue the cloud forbid + drop.
    Its open reports and flags are settled as banned. `moderator` None: the system did it.

    Returns the new ban, or None when the room is already under a ban (nothing changes).
    """
    with transaction.atomic():
        ban = _ban_room(room, moderator=moderator, reason=reason, until=until)
        if ban:
            action = _audit(Kind.BAN_ROOM, moderator, room=ban.room, reason=reason, until=until, room_ban=ban)
            settle_signals(ban.room, moderator=moderator, outcome=Decision.Outcome.BANNED, action=action)
    return ban


def unban_room(room, *, moderator, reason="") -> RoomBan | None:
    """Lift the room's ban and queue the cloud resume. The room itself stays `banned`.

    Returns the lifted ban, or None when the room has no ban to lift.
    """
    with transaction.atomic():
        ban = RoomBan.objects.unlifted().select_for_update().filter(room=room).first()
        if ban is None or not _lift_room_ban(ban, by=moderator):
            return None
        _audit(Kind.UNBAN_ROOM, moderator, room=room, reason=reason, room_ban=ban)
    return ban


def _ban_room(room, *, moderator, reason, until, streamer_ban=None) -> RoomBan | None:
    # NO KEY: room events, bans and audit rows naming the room take KEY SHARE on it; they must not wait.
    room = Room.objects.select_for_update(no_key=True, of=("self",)).select_related("owner").get(pk=room.pk)
    current = RoomBan.objects.unlifted().filter(room=room).first()
    if current and current.is_active:
        return None
    if current:  # ran out, not yet lifted by the beat task
        _expire_room_ban(current)
    room_services.ban_room(room, source=RoomEvent.Source.ADMIN, actor=moderator, reason=reason)
    ban = RoomBan.objects.create(room=room, reason=reason, until=until, moderator=moderator, streamer_ban=streamer_ban)
    _request_cloud_sync(ban)
    return ban


def _lift_room_ban(ban, *, by) -> bool:
    now = timezone.now()
    lifted = RoomBan.objects.filter(pk=ban.pk, lifted_at__isnull=True).update(
        lifted_at=now,
        lifted_by=by,
        cloud_revision=F("cloud_revision") + 1,
        cloud_confirmed=False,
        cloud_error="",
        cloud_updated_at=now,
    )
    if lifted:
        ban.refresh_from_db()
        _request_cloud_sync(ban)
    return bool(lifted)


def _expire_room_ban(ban) -> bool:
    if not _lift_room_ban(ban, by=None):
        return False
    _audit(Kind.EXPIRE_ROOM_BAN, None, room=ban.room, reason=ban.reason, until=ban.until, room_ban=ban)
    return True


# --- streamers --------------------------------------------------------------------------------


def ban_streamer(user, *, moderator, reason, until: datetime | None = None) -> StreamerBan | None:
    """Refuse `user` new rooms until `until` (None: for good) and ban their open room.

    Serialised with `rooms.services.create_room` on the user's row, so no room slips through.
    Returns the new ban, or None when the streamer is already banned (nothing changes).
    """
    with transaction.atomic():
        room_services.lock_owner(user)
        current = StreamerBan.objects.unlifted().filter(user=user).first()
        if current and current.is_active:
            return None
        if current:
            _expire_streamer_ban(current)
        ban = StreamerBan.objects.create(user=user, reason=reason, until=until, moderator=moderator)
        # The database allows one open room per owner.
        room = Room.objects.filter(owner=user, status__in=Room.OPEN_STATUSES).first()
        room_ban = room and _ban_room(room, moderator=moderator, reason=reason, until=until, streamer_ban=ban)
        _audit(Kind.BAN_STREAMER, moderator, user=user, reason=reason, until=until, room_ban=room_ban)
    return ban


def unban_streamer(user, *, moderator, reason="") -> StreamerBan | None:
    """Lift the streamer's ban, and the ban of the room it took down (resumed at the cloud).

    Returns the lifted ban, or None when the streamer is not banned.
    """
    with transaction.atomic():
        ban = StreamerBan.objects.unlifted().select_for_update().filter(user=user).first()
        if ban is None:
            return None
        StreamerBan.objects.filter(pk=ban.pk).update(lifted_at=timezone.now(), lifted_by=moderator)
        room_ban = ban.room_bans.unlifted().first()
        if room_ban and not _lift_room_ban(room_ban, by=moderator):
            room_ban = None
        _audit(Kind.UNBAN_STREAMER, moderator, user=user, reason=reason, room_ban=room_ban)
    return ban


def _expire_streamer_ban(ban) -> bool:
    if not StreamerBan.objects.filter(pk=ban.pk, lifted_at__isnull=True).update(lifted_at=timezone.now()):
        return False
    _audit(Kind.EXPIRE_STREAMER_BAN, None, user=ban.user, reason=ban.reason, until=ban.until)
    return True


# --- timed bans and upkeep (beat) -------------------------------------------------------------


def lift_expired_bans(now=None) -> int:
    """Lift every ban whose end has passed (room bans are resumed at the cloud). Returns how many."""
    lifted = 0
    for ban in RoomBan.objects.expired(now).select_related("room"):
        with transaction.atomic():
            lifted += _expire_room_ban(ban)
    for ban in StreamerBan.objects.expired(now).select_related("user"):
        with transaction.atomic():
            lifted += _expire_streamer_ban(ban)
    return lifted


def renew_cloud_forbids(now=None) -> int:
    """Forbid again the streams whose cloud forbid runs out before their ban does."""
    now = now or timezone.now()
    due = (
        RoomBan.objects.active(now)
        .filter(cloud_confirmed=True, cloud_forbidden_until__lt=now + CLOUD_RENEW_BEFORE)
        .exclude(until__lte=F("cloud_forbidden_until"))
    )
    return _resync(due)


def active_streamer_ban(user) -> StreamerBan | None:
    """The ban that keeps `user` from opening rooms now, or None (asked by `rooms.services.create_room`)."""
    return StreamerBan.objects.active().filter(user=user).first()


def reenforce_online_bans(online_streams) -> int:
    """The sweeper saw `online_streams`: forbid and drop again those of rooms under a ban. Run by
    each sweep pass (`rooms.hooks.on_online_streams`); returns how many bans were enforced again."""
    bans = RoomBan.objects.active().filter(cloud_confirmed=True).values_list("pk", "room__stream_id")
    return _resync(RoomBan.objects.filter(pk__in=[pk for pk, stream_id in bans if stream_id in online_streams]))


def retry_stale_cloud_syncs(now=None, limit=50) -> tuple[int, int]:
    """Enforce again, here and now, unconfirmed bans whose task was lost or gave up."""
    now = now or timezone.now()
    stale = RoomBan.objects.filter(cloud_confirmed=False, cloud_updated_at__lt=now - CLOUD_STALE_AFTER)
    pks = list(stale.order_by("cloud_updated_at").values_list("pk", flat=True)[:limit])
    return retry_cloud_syncs(RoomBan.objects.filter(pk__in=pks))


def retry_cloud_syncs(bans) -> tuple[int, int]:
    """Enforce the unconfirmed ones among `bans` now: (confirmed, still unconfirmed).

    Stops at the first failure that retrying may cure (the cloud is down: no point going on).
    """
    pks = list(bans.filter(cloud_confirmed=False).values_list("pk", flat=True))
    confirmed = 0
    for pk in pks:
        try:
            confirmed += sync_room_ban(pk)
        except livecloud.CloudError as exc:
            if exc.retryable:
                break
    return confirmed, len(pks) - confirmed


def _resync(bans) -> int:
    pks = list(bans.values_list("pk", flat=True))
    with transaction.atomic():
        RoomBan.objects.filter(pk__in=pks).update(
            cloud_revision=F("cloud_revision") + 1, cloud_confirmed=False, cloud_updated_at=timezone.now()
        )
        for pk in pks:
            transaction.on_commit(lambda pk=pk: _enqueue(pk), robust=True)
    return len(pks)


# --- the cloud --------------------------------------------------------------------------------


def sync_room_ban(ban_id, client=None) -> bool:
    """Tell the cloud what the ban's latest revision asks for, and record that it confirmed.

    While the ban holds: ForbidLiveStream (ResumeTime = the ban's end, at most CLOUD_FORBID_MAX
    ahead; Reason) then DropLiveStream. Once lifted: ResumeLiveStream. All are idempotent, so a
    duplicate run only repeats them. If the ban changed meanwhile (lifted during the calls), the
    newer state is sent too. Returns True when the cloud is in line with the ban, False when
    there is nothing to do (ban gone, or ran out and awaiting the beat task).
    Raises `livecloud.CloudError` after recording the failure on the ban and its audit row.
    """
    client = client or livecloud.get_client()
    for _ in range(3):
        ban = RoomBan.objects.select_related("room").filter(pk=ban_id).first()
        if ban is None or ban.cloud_confirmed:
            return ban is not None
        now = timezone.now()
        if ban.lifted_at is None and not ban.is_active:
            return False  # `lift_expired_bans` lifts it and queues the resume
        forbidden_until = None
        try:
            if ban.lifted_at is None:
                forbidden_until = min(ban.until or now + CLOUD_FORBID_MAX, now + CLOUD_FORBID_MAX)
                client.forbid(ban.room.stream_id, resume_at=forbidden_until, reason=ban.reason)
                client.drop(ban.room.stream_id)
            else:
                client.resume(ban.room.stream_id)
        except livecloud.CloudError as exc:
            _record_cloud_failure(ban, exc)
            raise
        if _record_cloud_confirmation(ban, forbidden_until):
            return True
    return False


def _record_cloud_confirmation(ban, forbidden_until) -> bool:
    now = timezone.now()
    confirmed = RoomBan.objects.filter(pk=ban.pk, cloud_revision=ban.cloud_revision).update(
        cloud_confirmed=True,
        cloud_confirmed_at=now,
        cloud_forbidden_until=forbidden_until,
        cloud_error="",
        cloud_attempts=F("cloud_attempts") + 1,
        cloud_updated_at=now,
    )
    if confirmed:
        ModerationAction.objects.filter(room_ban=ban, cloud_revision=ban.cloud_revision).update(
            cloud_result=CloudResult.CONFIRMED, cloud_detail=""
        )
    return bool(confirmed)


def _record_cloud_failure(ban, exc):
    logger.warning("Cloud enforcement of room ban %s failed: %s", ban.pk, exc)
    RoomBan.objects.filter(pk=ban.pk, cloud_revision=ban.cloud_revision).update(
        cloud_attempts=F("cloud_attempts") + 1, cloud_error=str(exc), cloud_updated_at=timezone.now()
    )
    ModerationAction.objects.filter(room_ban=ban, cloud_revision=ban.cloud_revision).exclude(
        cloud_result=CloudResult.CONFIRMED
    ).update(cloud_result=CloudResult.FAILED, cloud_detail=str(exc))


def _request_cloud_sync(ban):
    # robust: a broker hiccup must not fail the action; `retry_stale_cloud_syncs` catches up.
    transaction.on_commit(lambda: _enqueue(ban.pk), robust=True)


def _enqueue(ban_id):
    """Queue the ban's enforcement. Without a broker the ban holds all the same: it is marked
    due, so the periodic retry (`retry_stale_cloud_syncs`) enforces it at its next run."""
    from .tasks import enforce_room_ban

    try:
        enforce_room_ban.delay(ban_id)
    except Exception as exc:  # noqa: BLE001 - whatever the broker raised, the ban must not wait 15 minutes
        logger.warning("Room ban %s: enforcement not queued (%s); the periodic retry sends it", ban_id, exc)
        RoomBan.objects.filter(pk=ban_id, cloud_confirmed=False).update(
            cloud_updated_at=timezone.now() - CLOUD_STALE_AFTER
        )


# --- audit ------------------------------------------------------------------------------------


def _audit(kind, moderator, *, room=None, user=None, reason="", until=None, room_ban=None):
    if room is not None:
        target = f'room #{room.pk} "{room.title}" ({room.stream_id}) of {room.owner.username}'
    else:
        target = f"streamer {user.username}" + (f" ({user.nickname})" if user.nickname else "")
    return ModerationAction.objects.create(
        moderator=moderator,
        action=kind,
        target=target[:255],
        target_room=room,
        target_user=user if user is not None else room.owner,
        reason=reason,
        until=until,
        room_ban=room_ban,
        cloud_revision=room_ban.cloud_revision if room_ban else None,
        cloud_result=CloudResult.PENDING if room_ban else CloudResult.NONE,
    )


# --- decisions on reports and flags -------------------------------------------------------------


def settle_signals(room, *, moderator, outcome, action=None):
    """Close the room's open reports and flags (Pass verdicts stay as stored) with one `Decision`.

    The caller holds the room's row lock, so two moderators never settle the same signals twice.
    Returns the decision, or None when nothing was open.
    """
    reports = Report.objects.filter(room=room, decision__isnull=True)
    flags = Flag.objects.filter(room=room, decision__isnull=True).exclude(suggestion=Flag.Suggestion.PASS)
    firsts = [qs.aggregate(first=Min("created_at"))["first"] for qs in (reports, flags)]
    firsts = [first for first in firsts if first is not None]
    if not firsts:
        return None
    decision = Decision.objects.create(
        room=room, moderator=moderator, outcome=outcome, first_signal_at=min(firsts), action=action
    )
    decision.reports = reports.update(decision=decision)
    decision.flags = flags.update(decision=decision)
    decision.save(update_fields=["reports", "flags"])
    return decision


def dismiss_signals(room, *, moderator, note="") -> Decision | None:
    """Nothing wrong: the room's open reports and flags are resolved as dismissed (audited).

    Returns the decision, or None when the room had nothing open (nothing changes).
    """
    with transaction.atomic():
        room = Room.objects.select_for_update(no_key=True, of=("self",)).select_related("owner").get(pk=room.pk)
        decision = settle_signals(room, moderator=moderator, outcome=Decision.Outcome.DISMISSED)
        if decision is None:
            return None
        summary = f"{decision.reports} report(s), {decision.flags} flag(s) dismissed"
        decision.action = _audit(Kind.DISMISS, moderator, room=room, reason=(note or summary)[:500])
        decision.save(update_fields=["action"])
    return decision
