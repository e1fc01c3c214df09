"""The SPEC §12 data set, written straight into the bench database, and the in-process measurements.

Rooms are bulk-inserted in their final states (the bench measures reading and counting, not
the state machine, which the test suite covers); nothing here runs outside the bench database.
"""

import random
import time
from datetime import timedelta
from pathlib import Path

from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import User
from infra.redis import get_redis, key
from rooms import counters, cursors, selectors
from rooms.models import Room
from xiaozhibo.models import Account, RoomInfo

ROOMS, LIVE = 10_000, 2_000
INCREMENTS = 100_000
VIEWERS = 100_000
FIELDS = ("viewer_count", "like_count")
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
    live = selectors.live_rooms()
    plans = []
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ANALYZE SELECT COUNT(*) FROM {Room._meta.db_table} WHERE status = %s", [S.LIVE])
        plans.append(("count of live rooms", "\n".join(row[0] for row in cursor.fetchall())))
    for ordering in ("-started_at", "-viewer_count", "-like_count"):
        page = selectors.listed({"ordering": ordering}).values_list("pk", flat=True)[980:1000]
        plans.append((f"ids of page 50 of 20, ordering {ordering}", page.explain(analyze=True)))
    rows = selectors.listed({"ordering": "-started_at"}).values_list("pk", "started_at")
    pk, started = rows[979]
    cursor_page = cursors.after(rows, "started_at", (started, pk))[:21]
    plans.append(("ids of cursor page 50 of 20 (keyset), ordering -started_at", cursor_page.explain(analyze=True)))
    page = live.filter(pk__in=list(page))
    plans.append(("the rooms of a page, with their owners", page.explain(analyze=True)))
    return plans


def measure_flush(rng: random.Random, progress) -> dict:
    """Makes all 10,000 rooms live (nobody watching yet), counts 100,000 changes over them (joins of
    new viewers and likes), then times one flush."""
    Room.objects.update(status=S.LIVE, close_reason="", ended_at=None, viewer_count=0)
    started = time.perf_counter()
    counters.sync_live()
    load_s = time.perf_counter() - started
    before = _totals()
    changes = [(pk, field) for pk in Room.objects.values_list("pk", flat=True) for field in FIELDS] * 5
    rng.shuffle(changes)
    for n, (pk, field) in enumerate(changes, 1):
        if field == "like_count":
            counters.like(pk, 1)
        else:
            counters.join(pk, counters.new_viewer())
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


def crowd(room_id, viewers, path) -> Path:
    """`viewers` anonymous viewers watching one room; writes their tokens, one a line, to `path`."""
    crowd = [counters.new_viewer() for _ in range(viewers)]
    counters.join_all(room_id, crowd)
    tokens = [counters.token_for(room_id, viewer) for viewer in crowd]
    Path(path).write_text("\n".join(tokens) + "\n")
    return Path(path)


def measure_viewers(rng: random.Random, progress) -> dict:
    """100,000 viewers over the 2,000 live rooms (a long tail: a few crowded rooms, many small),
    held in an empty Redis: the Redis memory they take, the time of the one flush that writes
    every room's watching-now count, and whether the list ordered by -viewer_count then shows
    the true top 20."""
    live = list(Room.objects.filter(status=S.LIVE).values_list("pk", flat=True))
    rng.shuffle(live)
    before = _counter_memory()
    counters.sync_live()  # the live rooms' counts enter Redis: counted in, as what the viewers need
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(live))]
    shares = [VIEWERS * w / sum(weights) for w in weights]
    counts = [int(share) for share in shares]
    for rank in sorted(range(len(live)), key=lambda r: int(shares[r]) - shares[r])[: VIEWERS - sum(counts)]:
        counts[rank] += 1
    truth = dict(zip(live, counts, strict=True))
    done = 0
    for pk, n in truth.items():
        if n:
            counters.join_all(pk, [counters.new_viewer() for _ in range(n)])
        done += n
        if done // 20_000 != (done - n) // 20_000:
            progress(f"  {done:,} of {VIEWERS:,} viewers joined")
    after = _counter_memory()
    started = time.perf_counter()
    written = counters.flush()
    flush_s = time.perf_counter() - started
    stored = dict(Room.objects.filter(pk__in=live).values_list("pk", "viewer_count"))
    wrong = {pk: (stored.get(pk), n) for pk, n in truth.items() if stored.get(pk) != n}
    if wrong:
        progress(f"  counts differ in {len(wrong)} rooms, e.g. {list(wrong.items())[:5]}")
    top = [pk for pk, _ in sorted(truth.items(), key=lambda item: (-item[1], -item[0]))[:20]]
    page = Client().get("/api/v1/rooms/?ordering=-viewer_count", HTTP_HOST="127.0.0.1").json()["results"]
    return {
        "viewers": VIEWERS,
        "rooms": len(live),
        "largest": max(counts),
        "bytes": after - before,
        "bytes_per_viewer": (after - before) / VIEWERS,
        "written": written,
        "flush_s": flush_s,
        "exact": stored == truth,
        "top_matches": [room["id"] for room in page] == top,
    }


def _counter_memory():
    """Bytes Redis gives the counters' keys (MEMORY USAGE, every element counted): the shared
    Redis's other clients do not enter it, as they would a difference of INFO used_memory."""
    client = get_redis()
    names = list(client.scan_iter(key("counters", "*"), count=1000))
    total = 0
    for start in range(0, len(names), 1000):
        pipe = client.pipeline(transaction=False)
        for name in names[start : start + 1000]:
            pipe.memory_usage(name, samples=0)
        total += sum(size or 0 for size in pipe.execute())
    return total
