"""What /metrics answers: the processes' samples plus figures read at scrape time.

The samples (requests, likes, callbacks, sweeps, cloud calls, flushes) come from this process,
or in multiprocess mode from every process's files (see `monitoring.metrics`). The gauges below
are read from PostgreSQL and Redis at each scrape — five small queries and one Redis round trip
— so they are right whichever process changed them.
"""

import time

from django.db.models import Count
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from moderation.models import RoomBan
from monitoring import metrics, recent
from rooms import counters
from rooms.models import Room

from .models import StreamHealth


class StateCollector:
    """Gauges of the state of things, read when scraped."""

    def collect(self):
        snapshot = state()
        rooms = GaugeMetricFamily("liveroom_rooms", "Rooms by status.", labels=["status"])
        for status, count in snapshot["rooms"].items():
            rooms.add_metric([status], count)
        yield rooms
        for name, doc, key in (
            ("liveroom_viewers_watching", "Viewers watching a live room now, all rooms together.", "watching"),
            ("liveroom_bans_awaiting_enforcement", "Room bans the cloud has not confirmed yet.", "bans_awaiting"),
            ("liveroom_streams_degraded", "Live rooms whose stream health is degraded.", "degraded"),
            ("liveroom_counter_unflushed_rooms", "Rooms with counter changes not yet in the database.", "unflushed"),
            (
                "liveroom_counter_oldest_unflushed_age_seconds",
                "Age of the oldest counter change not yet in the database (0: none waiting).",
                "flush_lag",
            ),
        ):
            yield GaugeMetricFamily(name, doc, value=snapshot[key])


def state() -> dict:
    """The figures of the state of things (also the operator page's)."""
    by_status = dict(Room.objects.values_list("status").annotate(n=Count("pk")).order_by())
    live = Room.objects.filter(status=Room.Status.LIVE).only("pk", "viewer_count", "like_count", "counter_seq")
    unflushed = counters.unflushed_rooms()
    return {
        "rooms": {status: by_status.get(status, 0) for status in Room.Status.values},
        "watching": sum(room.viewer_count for room in counters.with_pending(live)),
        "bans_awaiting": RoomBan.objects.filter(cloud_confirmed=False).count(),
        "degraded": StreamHealth.objects.filter(degraded=True, room__status=Room.Status.LIVE).count(),
        "unflushed": float("nan") if unflushed is None else unflushed,
        "flush_lag": flush_lag(unflushed),
    }


def flush_lag(unflushed: int | None) -> float:
    """An upper bound of the oldest unflushed change's age: every change older than the start of
    the last flush was written by it, so with changes waiting the oldest is at most that old.
    NaN while Redis (which holds them) cannot be reached."""
    if unflushed is None:
        return float("nan")
    if not unflushed:
        return 0.0
    started = recent.last_flush_started()
    return round(time.time() - started, 3) if started else float("inf")


def render() -> bytes:
    if metrics.multiprocess_dir():
        samples = CollectorRegistry()
        multiprocess.MultiProcessCollector(samples)
    else:
        samples = REGISTRY
    scraped = CollectorRegistry()
    scraped.register(StateCollector())
    return generate_latest(samples) + generate_latest(scraped)
