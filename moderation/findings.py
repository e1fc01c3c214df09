"""Finding violations (SPEC §8.1): viewers' reports, Tencent's moderation flags, and what the
moderation queue and the live wall read of them.

Decisions on them (ban, dismiss) are in `services`; a Block verdict bans through
`services.ban_room` when AUTO_BAN_ON_BLOCK is on.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, DateTimeField, Exists, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from rooms.models import Room

from . import services
from .models import Flag, Report

logger = logging.getLogger(__name__)

REPORT_WINDOW = timedelta(hours=1)  # one reporter's repeats on a room within it count once
AUTO_BAN_FOR = timedelta(hours=24)
JUST_STARTED = timedelta(minutes=30)
QUEUED_SUGGESTIONS = (Flag.Suggestion.BLOCK, Flag.Suggestion.REVIEW)


class RoomNotLive(Exception):
    """Reports are taken for live rooms only; `room` says what it is instead."""

    def __init__(self, room):
        super().__init__(f"room {room.pk} is {room.status}")
        self.room = room


def file_report(room_id, *, reporter_key, reporter=None, reason, detail="", source="api") -> bool:
    """Record a report of a live room. Returns False when the same reporter (account, or address
    when not signed in) reported the room within REPORT_WINDOW: it counts once, nothing changes.

    Raises `Room.DoesNotExist`, or `RoomNotLive` for a room that exists but is not live.
    Serialised on the room's row, so two racing repeats still count once.
    """
    with transaction.atomic():
        # NO KEY: the report (and room events, bans) naming the room take KEY SHARE on it; they must not wait.
        room = Room.objects.select_for_update(no_key=True).get(pk=room_id)
        if room.status != Room.Status.LIVE:
            raise RoomNotLive(room)
        since = timezone.now() - REPORT_WINDOW
        if Report.objects.filter(room=room, reporter_key=reporter_key, created_at__gte=since).exists():
            return False
        Report.objects.create(
            room=room, reporter=reporter, reporter_key=reporter_key, reason=reason, detail=detail, source=source
        )
    return True


def record_flag(room, **fields) -> Flag:
    """Store Tencent's verdict (`Flag` fields: kind, suggestion, label, ...). A Block verdict puts
    the room at the top of the queue and, with AUTO_BAN_ON_BLOCK, bans it now (the system as
    the moderator: cloud forbid + drop, audit row). Review queues it; Pass is only stored."""
    flag = Flag.objects.create(room=room, **fields)
    if flag.suggestion == Flag.Suggestion.BLOCK and settings.AUTO_BAN_ON_BLOCK:
        what = "image" if flag.kind == Flag.Kind.IMAGE else "audio"
        reason = f"Automatic ban: Tencent's {what} moderation blocked it ({flag.label or 'no label'})."
        if services.ban_room(room, moderator=None, reason=reason, until=timezone.now() + AUTO_BAN_FOR):
            logger.info("Room %s banned on a Block verdict (%s)", room.pk, flag.label)
    return flag


# --- what the queue and the wall read ----------------------------------------------------------


def open_reports():
    return Report.objects.filter(decision__isnull=True)


def open_flags():
    return Flag.objects.filter(decision__isnull=True, suggestion__in=QUEUED_SUGGESTIONS)


def _count(queryset):
    counted = queryset.filter(room=OuterRef("pk")).order_by().values("room").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _first(queryset):
    first = queryset.filter(room=OuterRef("pk")).order_by("created_at").values("created_at")[:1]
    return Subquery(first, output_field=DateTimeField())


def queue(model=Room):
    """Rooms with open reports or flags, riskiest first: Block verdicts, then Review, then the
    number of reports, then viewers. Each row carries `blocks`, `reviews`, `report_count` and
    `first_signal` (when its oldest open signal came in)."""
    flags = open_flags()
    return (
        model.objects.select_related("owner")
        .annotate(
            blocks=_count(flags.filter(suggestion=Flag.Suggestion.BLOCK)),
            reviews=_count(flags.filter(suggestion=Flag.Suggestion.REVIEW)),
            report_count=_count(open_reports()),
            first_signal=Least(
                Coalesce(_first(open_reports()), _first(flags)), Coalesce(_first(flags), _first(open_reports()))
            ),
        )
        .filter(Q(pk__in=open_reports().values("room_id")) | Q(pk__in=flags.values("room_id")))
        .order_by("-blocks", "-reviews", "-report_count", "-viewer_count", "-id")
    )


def live_rooms(*, just_started=False, now=None, model=Room):
    """The wall's rooms: every live room, newest first; `just_started`: those that went live in
    the last 30 minutes, each with `first_time` (the streamer's first room to go live)."""
    rooms = model.objects.select_related("owner").filter(status=Room.Status.LIVE)
    if just_started:
        earlier = Room.objects.filter(owner=OuterRef("owner"), started_at__lt=OuterRef("started_at"))
        rooms = rooms.filter(started_at__gte=(now or timezone.now()) - JUST_STARTED)
        rooms = rooms.annotate(first_time=~Exists(earlier))
    return rooms.order_by("-started_at", "-id")


def signal_summary(room_ids) -> dict:
    """{room id: {"reports": {reason: n}, "blocks": n, "reviews": n, "labels": [...]}} of the open
    reports and flags of `room_ids`: two queries, whatever their number."""
    summary = {pk: {"reports": {}, "blocks": 0, "reviews": 0, "labels": []} for pk in room_ids}
    reports = open_reports().filter(room_id__in=room_ids).values_list("room_id", "reason").annotate(n=Count("pk"))
    for room_id, reason, n in reports.order_by():
        summary[room_id]["reports"][reason] = n
    flags = open_flags().filter(room_id__in=room_ids).values_list("room_id", "suggestion", "label")
    for room_id, suggestion, label, n in flags.annotate(n=Count("pk")).order_by():
        entry = summary[room_id]
        entry["blocks" if suggestion == Flag.Suggestion.BLOCK else "reviews"] += n
        if label and label not in entry["labels"]:
            entry["labels"].append(label)
    return summary


def top_reason(reports: dict) -> str:
    """The most reported reason's label, for a ban's prefilled reason ("" when none)."""
    if not reports:
        return ""
    reason = max(reports, key=lambda r: (reports[r], r))
    return Report.Reason(reason).label
