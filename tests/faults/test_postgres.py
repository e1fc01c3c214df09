"""PostgreSQL restarting (its sessions terminated) or unreachable (the proxy in front of it cut).

Kept connections are checked before reuse, so a restart costs no error; while the database is
away, cached list pages and live rooms are served from Redis (stale up to STALE_IF_ERROR), likes
still count, and everything else is 503 JSON with Retry-After, never Django's error page.
"""

import json
import time

import pytest
import requests
from django.conf import settings
from django.db import connection
from rest_framework.authtoken.models import Token

from infra.redis import get_redis, key
from rooms import tasks
from rooms.models import Room
from tests.test_callbacks import signed

from .conftest import login
from .load import Load
from .servers import wait_until

pytestmark = pytest.mark.usefixtures("faults")


def terminate_app_sessions(app):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
            [app.application_name],
        )
        return cursor.fetchone()[0]


def test_terminated_database_sessions_cost_no_error(app, make_room, make_user, record):
    room = make_room(make_user(), Room.Status.LIVE)
    uncached = [app.url("/healthz"), app.url(f"/rooms/{room.pk}/state/"), app.url("/api/v1/rooms/?search=Even")]
    session = requests.Session()
    for url in uncached * 3:
        assert session.get(url, timeout=10).status_code == 200
    assert terminate_app_sessions(app) >= 1
    # The next requests find their kept connection dead, and open a new one.
    assert [session.get(url, timeout=10).status_code for url in uncached * 3] == [200] * 9

    # Under load, a session terminated mid-query fails that one request, as a 503, never a 500.
    load = Load({"state": (("GET", uncached[1], None), 4), "search": (("GET", uncached[2], None), 2)}).start()
    terminated = 0
    for _ in range(3):
        time.sleep(0.3)
        terminated += terminate_app_sessions(app)
    time.sleep(0.3)
    load.stop()
    assert set(load.statuses()) <= {200, 503}, load.statuses()
    for answer in load.answers:
        if answer.status == 503:
            assert json.loads(answer.body)["code"] == "unavailable" and answer.retry_after
    record(
        "PostgreSQL sessions terminated (pg_terminate_backend), 3 times under load",
        **{
            "sessions terminated": terminated,
            "requests": len(load.answers),
            "answers by status": dict(load.statuses()),
            "5xx other than 503 unavailable": sum(500 <= a.status != 503 for a in load.answers),
            "requests right after a termination with no load": "9 of 9 answered 200",
        },
    )


def test_while_the_database_is_cut_cached_answers_are_served_and_the_rest_is_503_json(
    app, pg_proxy, make_room, make_user, moderator, record
):
    room = make_room(make_user(), Room.Status.LIVE)
    other = make_room(make_user(), Room.Status.LIVE)
    token = Token.objects.create(user=room.owner).key
    admin = login(app, moderator)
    cached = {
        "list": app.url("/api/v1/rooms/"),
        "list by likes": app.url("/api/v1/rooms/?ordering=-like_count&page_size=5"),
        "room": app.url(f"/api/v1/rooms/{room.pk}/"),
    }
    before = {name: requests.get(url, timeout=10).json() for name, url in cached.items()}
    tasks.flush_counters()  # as beat does: Redis's set of live rooms is confirmed
    # Each answer is kept for STALE_IF_ERROR past its freshness, apart from the fresh copies.
    assert 50 < get_redis().ttl(key("answers", "stale", f"room:{room.pk}")) <= 61

    load = Load({name: (("GET", url, None), 1) for name, url in cached.items()}).start()
    time.sleep(0.5)
    cut = time.monotonic()
    pg_proxy.cut()
    time.sleep(1.5)  # past ROOM_LIST_CACHE_TTL (1 s): only the stale copies are left
    for name, url in cached.items():
        response = requests.get(url, timeout=10)
        assert response.status_code == 200 and response.json() == before[name], name
    # A like needs no database in Redis mode: it counts, and is flushed once the database is back.
    assert requests.post(app.url(f"/api/v1/rooms/{room.pk}/like/"), json={"count": 3}, timeout=10).status_code == 202

    push = signed("push", other.stream_id)
    refused = {
        "search": requests.get(app.url("/api/v1/rooms/?search=Even"), timeout=10),
        "a room never cached": requests.get(app.url(f"/api/v1/rooms/{room.pk + 1000}/"), timeout=10),
        "mine": requests.get(app.url("/api/v1/rooms/mine/"), headers={"Authorization": f"Token {token}"}, timeout=10),
        "create": requests.post(
            app.url("/api/v1/rooms/"), json={"title": "x"}, headers={"Authorization": f"Token {token}"}, timeout=10
        ),
        "token": requests.post(app.url("/api/v1/auth/token/"), json={"username": "a", "password": "b"}, timeout=10),
        "healthz": requests.get(app.url("/healthz"), timeout=10),
        "callback": requests.post(app.url("/callbacks/tencent/"), json=push, timeout=10),
        "home page": requests.get(app.url("/"), timeout=10),
        "watch page": requests.get(app.url(f"/rooms/{room.pk}/"), timeout=10),
        "admin": admin.get(app.url("/admin/rooms/room/"), timeout=10),
    }
    for name, response in refused.items():
        assert response.status_code == 503, (name, response.status_code, response.text[:300])
        assert response.headers["Content-Type"] == "application/json", name
        assert response.headers["Retry-After"], name
        assert response.json()["code"] == "unavailable", name
    assert refused["healthz"].json()["checks"]["database"].startswith("error")

    pg_proxy.restore()
    restored = time.monotonic()
    wait_until(lambda: requests.get(app.url("/healthz"), timeout=10).status_code == 200)
    recovered = time.monotonic()
    time.sleep(0.3)
    load.stop()
    assert set(load.statuses()) == {200}, load.statuses()
    assert requests.get(app.url("/"), timeout=10).status_code == 200
    tasks.flush_counters()
    room.refresh_from_db()
    assert room.like_count == 3
    record(
        "PostgreSQL unreachable (proxy cut: connections reset, new ones refused) for 1.5 s and more",
        **{
            "requests (cached list pages and a live room, under load)": len(load.answers),
            "answers by status": {job: dict(load.statuses(job)) for job in load.jobs},
            "served during the cut (all 200, stale copies after 1 s)": len(load.of("list", since=cut))
            + len(load.of("room", since=cut)),
            "other requests during the cut": f"{len(refused)} kinds, all 503 JSON with Retry-After",
            "5xx other than 503 unavailable": sum(500 <= a.status != 503 for a in load.answers),
            "likes accepted during the cut / counted after it": "3 / 3",
            "seconds to recover (proxy restored -> /healthz 200)": round(recovered - restored, 2),
        },
    )
    assert settings.STALE_IF_ERROR == 60
