"""Stream health (SPEC §16): the once-a-minute check, push exceptions, and the `degraded` rule.

The rule, per live room, from the cloud's latest figures:
- `low_fps`: the frame rate received is under 80 % of what the encoder declared, or under
  15 fps when it declared none (viewers see stutter);
- `low_bitrate`: the video bitrate received is under 50 % of what the encoder declared (only
  when declared: a still picture needs far fewer bits than a busy one, so the margin is wide);
- `push_exception`: Tencent reported a push exception (event 321: timestamps jumping, frame
  gaps over 3 s, codec changes, ...) within the last two check intervals.
A room with any of these is `degraded`.
"""

import json
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

import livecloud
from monitoring import metrics
from rooms.models import Room

from .models import StreamHealth

logger = logging.getLogger(__name__)

FPS_SHARE = 0.8
MIN_FPS = 15
BITRATE_SHARE = 0.5
FIGURES = ["fps", "kbps", "resolution", "declared_fps", "declared_kbps"]
HEALTH_FIELDS = ["fps", "kbps", "resolution", "declared_fps", "declared_kbps", "degraded", "problems", "checked_at"]


def problems(info, *, exception_at=None, now=None) -> list[str]:
    """What is wrong with a stream's figures (`livecloud.PushInfo` or a StreamHealth), by the rule above."""
    found = []
    if info.fps is not None:
        floor = FPS_SHARE * info.declared_fps if info.declared_fps else MIN_FPS
        if info.fps < floor:
            found.append("low_fps")
    if info.kbps is not None and info.declared_kbps and info.kbps < BITRATE_SHARE * info.declared_kbps:
        found.append("low_bitrate")
    if exception_at and exception_at >= (now or timezone.now()) - exception_window():
        found.append("push_exception")
    return found


def exception_window():
    return timedelta(seconds=2 * settings.SWEEP_INTERVAL)


def after_sweep(sender, result, **kwargs):
    """Once a minute with the sweep (the beat task's `sweep_finished`): one check."""
    return check()


def check(client=None) -> dict:
    """One check: a DescribeLiveStreamPushInfoList call, each live room's health written.

    Returns {"streams", "rooms", "degraded"} or {"cloud_error"}; never raises for cloud failures
    (the previous figures stay, with their `checked_at`).
    """
    started = time.perf_counter()
    try:
        infos = (client or livecloud.get_client()).push_info()
    except livecloud.CloudError as exc:
        metrics.health_checked("cloud_error")
        logger.warning("stream health: cloud call failed: %s", exc)
        return {"cloud_error": str(exc)}
    now = timezone.now()
    by_stream = {info.stream_id: info for info in infos}
    live = Room.objects.filter(status=Room.Status.LIVE).values_list("stream_id", "pk")
    rooms = {stream_id: pk for stream_id, pk in live if stream_id in by_stream}
    recent = StreamHealth.objects.filter(room__status=Room.Status.LIVE, exception_at__gte=now - exception_window())
    exceptions = dict(recent.values_list("room_id", "exception_at"))
    rows = []  # (room id, the stream's figures, its problems)
    for stream_id, room_id in rooms.items():
        info = by_stream[stream_id]
        rows.append((room_id, info, problems(info, exception_at=exceptions.get(room_id), now=now)))
    _upsert(rows, now)
    metrics.health_checked("ok")
    degraded = sum(bool(found) for _, _, found in rows)
    logger.info("stream health: %d streams, %d live rooms, %d degraded", len(infos), len(rows), degraded)
    return {"streams": len(infos), "rooms": len(rows), "degraded": degraded, "seconds": time.perf_counter() - started}


def _upsert(rows, now):
    """Write the rows' health fields (the exception fields stay): one statement on PostgreSQL."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        StreamHealth.objects.bulk_create(
            [
                StreamHealth(room_id=room_id, **_figures(info), degraded=bool(found), problems=found, checked_at=now)
                for room_id, info, found in rows
            ],
            batch_size=500,
            update_conflicts=True,
            unique_fields=["room"],
            update_fields=HEALTH_FIELDS,
        )
        return
    table = connection.ops.quote_name(StreamHealth._meta.db_table)
    columns = ", ".join(["room_id", *HEALTH_FIELDS[:-1]])
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in HEALTH_FIELDS)
    infos = [info for _, info, _ in rows]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}, checked_at, exception_detail)"
            " SELECT r, f, k, res, df, dk, d, p::jsonb, %s, ''"
            " FROM unnest(%s::bigint[], %s::float8[], %s::int[], %s::text[], %s::float8[], %s::int[], %s::bool[],"
            " %s::text[]) AS u(r, f, k, res, df, dk, d, p)"
            f" ON CONFLICT (room_id) DO UPDATE SET {updates}",
            [
                now,
                [room_id for room_id, _, _ in rows],
                *([getattr(info, name) for info in infos] for name in FIGURES),
                [bool(found) for _, _, found in rows],
                [json.dumps(found) for _, _, found in rows],
            ],
        )


def _figures(info):
    return {name: getattr(info, name) for name in FIGURES}


def record_push_exception(room, *, exception_type, detail, count, at=None) -> bool:
    """Event 321 for a live room: kept on its health, which turns degraded. False when not live."""
    if room.status != Room.Status.LIVE:
        return False
    at = at or timezone.now()
    metrics.push_exception(exception_type)
    health, _ = StreamHealth.objects.get_or_create(room=room)
    found = [p for p in health.problems if p != "push_exception"] + ["push_exception"]
    StreamHealth.objects.filter(pk=room.pk).update(
        exception_type=exception_type,
        exception_detail=detail[:255],
        exception_count=count,
        exception_at=at,
        degraded=True,
        problems=found,
    )
    return True


def as_dict(health) -> dict:
    """The owner's view of a room's health (GET /rooms/{id}/ `health`)."""
    exception = None
    if health.exception_at:
        exception = {
            "type": health.exception_type,
            "detail": health.exception_detail,
            "count": health.exception_count,
            "at": health.exception_at.isoformat().replace("+00:00", "Z"),
        }
    return {
        "fps": health.fps,
        "kbps": health.kbps,
        "resolution": health.resolution,
        "declared_fps": health.declared_fps,
        "declared_kbps": health.declared_kbps,
        "degraded": health.degraded,
        "problems": health.problems,
        "checked_at": health.checked_at.isoformat().replace("+00:00", "Z") if health.checked_at else None,
        "exception": exception,
    }
