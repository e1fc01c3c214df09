"""The SPEC §12 data set, written straight into the bench database, and the in-process measurements.

Rooms are bulk-inserted in their final states (the bench measures reading and counting, not
the state machine, which the test suite covers); nothing here runs outside the bench database.
"""

import random
import time
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from accounts.models import User
from rooms import counters
from rooms.filters import RoomFilter
from rooms.models import Room
from xiaozhibo.models import Account, RoomInfo

ROOMS, LIVE = 10_000, 2_000
INCREMENTS = 100_000
S = Room.Status


def reset():
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)


def seed(rng: random.Random) -> list[int]:
    """10,000 rooms, one per streamer, 2,000 of them live; returns the live rooms' ids."""
    password = make_password(None)  # unusable: nobody logs in during the bench
    users = User.objects.bulk_create(
        (User(username=f"bench{i}", nickname=f"Streamer {i}", password=password) for i in range(ROOMS)),
        batch_size=2000,
    )
    live = set(rng.sample(range(ROOMS), LIVE))
    now = timezone.now()
    rooms = []
    for i, user in enumerate(users):
        started = now - timedelta(seconds=rng.randint(60, 7 * 86400))
        rooms.append(
            Room(
                owner=user,
                stream_id=f"8888_bench{i:06d}",
                title=f"Evening show #{i}",
                cover_url=f"https://img.example.com/covers/{i}.jpg",
                location="Shenzhen",
                status=S.LIVE if i in live else S.CLOSED,
                close_reason="" if i in live else Room.CloseReason.OWNER,
                viewer_count=rng.randint(0, 50_000),
                like_count=rng.randint(0, 200_000),
                started_at=started,
                last_seen_live_at=now if i in live else started,
                ended_at=None if i in live else started + timedelta(minutes=rng.randint(1, 300)),
            )
        )
    Room.objects.bulk_create(rooms, batch_size=2000)
    # Every room was opened through the Xiaozhibo protocol too, so its FetchList lists all 2,000.
    Account.objects.bulk_create(
        (Account(userid=f"bench{i}", user=user) for i, user in enumerate(users)), batch_size=2000
    )
    RoomInfo.objects.bulk_create(
        (RoomInfo(room=room, groupid=f"@TGS#bench{i}") for i, room in enumerate(rooms)), batch_size=2000
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # what autovacuum would have done by now: index-only scans need it
    return list(Room.objects.filter(status=S.LIVE).order_by("pk").values_list("pk", flat=True))


def xiaozhibo_userid(room_id) -> str:
    return Account.objects.get(user__rooms__pk=room_id).userid


def explain_list() -> list[tuple[str, str]]:
    """EXPLAIN ANALYZE of the list's queries: the count, a deep page's ids for each ordering, the page's rooms."""
    live = Room.objects.select_related("owner").filter(status=S.LIVE)
    plans = []
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ANALYZE SELECT COUNT(*) FROM {Room._meta.db_table} WHERE status = %s", [S.LIVE])
        plans.append(("count of live rooms", "\n".join(row[0] for row in cursor.fetchall())))
    for ordering in ("-started_at", "-viewer_count", "-like_count"):
        room_filter = RoomFilter({"ordering": ordering}, queryset=live)
        room_filter.is_valid()
        page = room_filter.qs.values_list("pk", flat=True)[980:1000]
        plans.append((f"ids of page 50 of 20, ordering {ordering}", page.explain(analyze=True)))
    page = live.filter(pk__in=list(page))
    plans.append(("the rooms of a page, with their owners", page.explain(analyze=True)))
    return plans


def measure_flush(rng: random.Random, progress) -> dict:
    """Makes all 10,000 rooms live, counts 100,000 changes over them, then times one flush."""
    Room.objects.update(status=S.LIVE, close_reason="", ended_at=None)
    started = time.perf_counter()
    counters.sync_live()
    load_s = time.perf_counter() - started
    before = _totals()
    changes = [(pk, field) for pk in Room.objects.values_list("pk", flat=True) for field in counters.FIELDS] * 5
    rng.shuffle(changes)
    for n, (pk, field) in enumerate(changes, 1):
        counters.increment(pk, field, 1)
        if n % 20_000 == 0:
            progress(f"  {n:,} of {len(changes):,} increments counted")
    started = time.perf_counter()
    rooms = counters.flush()
    flush_s = time.perf_counter() - started
    started = time.perf_counter()
    counters.sync_live()
    sync_s = time.perf_counter() - started
    after = _totals()
    return {
        "rooms": rooms,
        "increments": len(changes),
        "flush_s": flush_s,
        "sync_s": sync_s,
        "load_s": load_s,
        "exact": after == (before[0] + len(changes) // 2, before[1] + len(changes) // 2),
    }


def _totals():
    rows = Room.objects.values_list("viewer_count", "like_count")
    return sum(r[0] for r in rows), sum(r[1] for r in rows)
