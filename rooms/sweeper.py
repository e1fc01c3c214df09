"""The zombie sweeper: callbacks are one insurance, this poll of the cloud is the other.

One pass (`sweep()`), run by Celery beat every SWEEP_INTERVAL and by `manage.py sweep_rooms`:
1. ask the cloud which streams are online (one DescribeLiveStreamOnlineList call);
2. live rooms online: strikes reset; offline: one more strike; at OFFLINE_STRIKES, closed as
   `zombie` once DescribeLiveStreamState confirms the stream is not active (the list may glitch:
   come back empty or short). At most ZOMBIE_CHECKS_PER_SWEEP such checks per pass, so a glitch
   over thousands of rooms costs no more; the others keep their strikes and wait for a later pass.
   A room found active counts as online; a failed check, or one past the pass's time budget,
   closes nothing more in this pass;
3. created / interrupted rooms online: live (a lost push callback), an interrupted one only if
   it was interrupted before the list was asked for (a stale list revives nothing); interrupted past
   RECONNECT_WINDOW: closed (`stream_ended`); created past PENDING_TTL: closed (`expired`);
   then what the parts above rooms do with the online list (`hooks.on_online_streams`):
   moderation forbids and drops again banned rooms online while their ban holds (`reforbidden`);
4. when the cloud call fails, nothing at all is closed (Tencent: treat the stream as online).
Only one pass runs at a time (`infra.locks.exclusive`).
"""

import logging
import time
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

import livecloud
from infra.locks import exclusive
from monitoring import metrics

from . import hooks, services
from .models import Room

logger = logging.getLogger(__name__)
Status, CloseReason, Source = Room.Status, Room.CloseReason, services.Source


@dataclass
class SweepResult:
    ran: bool = True  # False: another pass held the lock
    cloud_error: str = ""  # the cloud call failed: nothing was closed
    online_streams: int = 0
    live_rooms: int = 0
    seen_online: int = 0
    struck: int = 0
    zombie_checks: int = 0  # DescribeLiveStreamState calls made to confirm zombies
    zombies: int = 0
    zombies_waiting: int = 0  # at OFFLINE_STRIKES but not checked in this pass (cap, or a failed check)
    zombie_check_error: str = ""
    healed: int = 0
    ended: int = 0
    expired: int = 0
    reforbidden: int = 0  # filled in by moderation's reaction to the online list (rooms.hooks)
    seconds: float = 0.0

    def as_dict(self):
        return asdict(self)


def sweep(client=None) -> SweepResult:
    """One pass of the sweeper; see the module docstring. Never raises for cloud failures."""
    started = time.perf_counter()
    with exclusive("sweep-rooms", timeout=settings.CELERY_TASK_TIME_LIMIT) as acquired:
        if not acquired:
            logger.info("sweep skipped: another sweep is running")
            metrics.sweep_done(SweepResult(ran=False))
            return SweepResult(ran=False)
        result = SweepResult()
        client = client or livecloud.get_client()
        taken_at = timezone.now()  # before asking: the answer says nothing of later events
        try:
            online = client.online_streams()
        except livecloud.CloudError as exc:
            result.cloud_error = str(exc)
            logger.warning("sweep: cloud call failed, nothing closed: %s", exc)
        else:
            result.online_streams = len(online)
            # Zombie checks stop at half the shorter of the interval and the task's time limit,
            # so a slow cloud cannot stretch a pass past its lock into the next one.
            budget = min(settings.SWEEP_INTERVAL, settings.CELERY_TASK_SOFT_TIME_LIMIT) / 2
            _check_live(online, client, result, deadline=started + budget)
            _check_open(online, taken_at, result)
            for name, react in hooks.online_reactions.items():
                setattr(result, name, react(online))
        result.seconds = round(time.perf_counter() - started, 3)
    logger.info("sweep: %s", result.as_dict())
    metrics.sweep_done(result)
    return result


def _check_live(online, client, result, *, deadline):
    live = list(Room.objects.filter(status=Status.LIVE).values_list("pk", "stream_id"))
    seen = [pk for pk, stream_id in live if stream_id in online]
    missing = [pk for pk, stream_id in live if stream_id not in online]
    result.live_rooms, result.seen_online, result.struck = len(live), len(seen), len(missing)
    services.note_online(seen)
    suspects = Room.objects.filter(pk__in=services.note_offline(missing))
    # Longest missing first, so that rooms left over by the cap come first in the next pass.
    suspects = suspects.order_by("-offline_strikes", F("last_seen_live_at").asc(nulls_first=True), "pk")
    _close_confirmed_zombies(list(suspects.only("pk", "stream_id")), client, result, deadline)


def _close_confirmed_zombies(suspects, client, result, deadline):
    """Close the rooms whose stream the cloud, asked one by one, does not report active."""
    checked = suspects[: settings.ZOMBIE_CHECKS_PER_SWEEP]
    result.zombies_waiting = len(suspects) - len(checked)
    for index, room in enumerate(checked):
        if time.perf_counter() > deadline:
            result.zombies_waiting += len(checked) - index
            return
        try:
            state = client.stream_state(room.stream_id)
        except livecloud.CloudError as exc:
            result.zombie_check_error = str(exc)
            result.zombies_waiting += len(checked) - index
            logger.warning("sweep: stream state check failed, %d zombie(s) left open: %s", len(checked) - index, exc)
            return
        result.zombie_checks += 1
        if state == "active":  # missing from the list, yet pushing: the list was wrong
            result.seen_online += services.note_online([room.pk])
        else:
            result.zombies += services.close_zombie(room)


def _check_open(online, taken_at, result):
    """`online` as the cloud saw it at `taken_at`: a room interrupted since is not healed by it."""
    reconnect_cutoff = taken_at - timedelta(seconds=settings.RECONNECT_WINDOW)
    pending_cutoff = taken_at - timedelta(seconds=settings.PENDING_TTL)
    waiting = Q(status=Status.INTERRUPTED) | Q(status=Status.CREATED)
    for room in Room.objects.filter(waiting).only("pk", "stream_id", "status", "created_at", "interrupted_at"):
        if room.stream_id in online:
            result.healed += services.heal_room(room, interrupted_before=taken_at)
        elif room.status == Status.INTERRUPTED and room.interrupted_at and room.interrupted_at <= reconnect_cutoff:
            guard = Q(status=Status.INTERRUPTED, interrupted_at__lte=reconnect_cutoff)
            result.ended += services.close_room(
                room, reason=CloseReason.STREAM_ENDED, source=Source.SWEEPER, guard=guard
            )
        elif room.status == Status.CREATED and room.created_at <= pending_cutoff:
            guard = Q(status=Status.CREATED, created_at__lte=pending_cutoff)
            result.expired += services.close_room(room, reason=CloseReason.EXPIRED, source=Source.SWEEPER, guard=guard)
