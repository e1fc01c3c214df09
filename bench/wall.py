"""The moderators' live wall and queue over SPEC §12's data set (2,000 live rooms of 10,000).

    BENCH_DATABASE_URL=... BENCH_REDIS_URL=... .venv/bin/python bench/wall.py

Seeds the bench database (as `make bench` does), adds open reports on 200 live rooms and flags
on 50, then requests each page in-process through Django's test client as a moderator, and
prints the median and 95th-percentile server time and the database queries of each. The wall's
query count is the same for every page (tests/test_findings.py asserts it).
"""

import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/liveroom_bench")
os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL") or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
os.environ["REDIS_KEY_PREFIX"] = "liveroom-bench-wall"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liveroom.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import User  # noqa: E402
from bench import seed  # noqa: E402
from moderation.groups import ensure_moderators_group  # noqa: E402
from moderation.models import Flag, Report  # noqa: E402

REPEAT = int(os.environ.get("BENCH_WALL_REPEAT", "30"))
PAGES = [
    ("wall, page 1 (HTML)", "/admin/moderation/wallroom/", {}),
    ("wall, page 1 (JSON refresh)", "/admin/moderation/wallroom/data/", {}),
    ("wall, last page (JSON refresh)", "/admin/moderation/wallroom/data/", {"page": "34"}),
    ("just started (JSON refresh)", "/admin/moderation/wallroom/data/", {"just_started": "1"}),
    ("queue, page 1", "/admin/moderation/queuedroom/", {}),
]


def add_signals(live_ids, rng):
    reasons = [value for value, _ in Report.Reason.choices]
    Report.objects.bulk_create(
        Report(room_id=room_id, reporter_key=f"addr:10.0.{n // 250}.{n % 250}", reason=rng.choice(reasons))
        for n, room_id in enumerate(rng.choices(live_ids[:200], k=600))
    )
    Flag.objects.bulk_create(
        Flag(room_id=room_id, kind="image", suggestion=rng.choice(["block", "review"]), label="Porn", score=90)
        for room_id in live_ids[200:250]
    )


def measure(client, url, params):
    times, counts = [], set()
    for _ in range(REPEAT):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url, params)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        counts.add(len(captured))
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], sorted(counts)


def main():
    seed.reset()
    rng = random.Random(14)
    live_ids = seed.seed(rng)
    add_signals(live_ids, rng)
    moderator = User.objects.create_user("bench-moderator", password=None, is_staff=True)
    moderator.groups.add(ensure_moderators_group())
    client = Client()
    client.force_login(moderator)
    client.get(PAGES[0][1])  # warm up: templates, permissions' content types
    print(f"{len(live_ids)} live rooms, {Report.objects.count()} open reports, {Flag.objects.count()} flags")
    print(f"load average {os.getloadavg()[0]:.2f} (2 cores); {REPEAT} requests each, in-process\n")
    print("| page | median ms | p95 ms | queries |")
    print("|---|---|---|---|")
    for name, url, params in PAGES:
        median, p95, counts = measure(client, url, params)
        print(f"| {name} | {median:.1f} | {p95:.1f} | {', '.join(map(str, counts))} |")


if __name__ == "__main__":
    main()
