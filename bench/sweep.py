"""Time one sweeper pass over many live rooms against an in-process Tencent simulator.

`measure_sweep(rooms=10_000)` (or `python manage.py sweep_rooms --bench`) creates that many
owners and live rooms in the configured database, marks their streams online in a simulator
served on a free loopback port, runs one `sweep()` through the real cloud client over HTTP,
and deletes everything it created.
"""

import secrets
import time
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth import get_user_model
from django.test.utils import override_settings
from django.utils import timezone

from livecloud.sim import SimConfig, Simulator, SimulatorServer
from rooms import sweeper
from rooms.models import Room


def measure_sweep(rooms=10_000) -> dict:
    """{"live_rooms", "seconds", "list_calls", ...the SweepResult} for one pass."""
    with online_rooms(rooms) as server:
        started = time.perf_counter()
        result = sweeper.sweep()
        seconds = time.perf_counter() - started
        list_calls = sum(call["action"] == "DescribeLiveStreamOnlineList" for call in server.simulator.calls)
    return {**result.as_dict(), "seconds": round(seconds, 3), "list_calls": list_calls}


@contextmanager
def online_rooms(count):
    """`count` owners, each with a live room whose stream is online at an in-process simulator
    (yielded; the settings point at it meanwhile). Everything is removed afterwards."""
    tag = secrets.token_hex(4)
    config = SimConfig.from_settings(settings)
    config.callback_url = ""
    server = SimulatorServer(Simulator(config)).start()
    try:
        server.simulator.seed_online(_seed_rooms(tag, count))
        with override_settings(TENCENT_LIVE_ENDPOINT=server.url):
            yield server
    finally:
        server.close()
        get_user_model().objects.filter(username__startswith=f"sweepbench-{tag}-").delete()


def _seed_rooms(tag, count):
    User = get_user_model()
    users = User.objects.bulk_create(
        User(username=f"sweepbench-{tag}-{i}", password="!", nickname=f"Bench {i}") for i in range(count)
    )
    now = timezone.now()
    Room.objects.bulk_create(
        (
            Room(
                owner=user,
                stream_id=f"{settings.TENCENT_LIVE_BIZID}_bench{tag}{i}",
                title=f"Bench room {i}",
                status=Room.Status.LIVE,
                started_at=now,
                last_seen_live_at=now,
            )
            for i, user in enumerate(users)
        ),
        batch_size=2000,
    )
    return [f"{settings.TENCENT_LIVE_BIZID}_bench{tag}{i}" for i in range(count)]
