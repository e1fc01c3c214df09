"""Who is watching now: join / heartbeat / leave, views and peak (SPEC §5), in both counter modes."""

import threading
import time

import pytest
from django.core import signing
from django.db import connections

from rooms import counters, services, tasks
from rooms.models import Room, RoomEvent, RoomViewer
from rooms.throttling import CounterThrottle

from . import xiaozhibo_client as xzb

pytestmark = pytest.mark.django_db
S = Room.Status
SRC = RoomEvent.Source


def url(room, action=""):
    return f"/api/v1/rooms/{room.pk}/{action}"


def stored(room, *fields):
    return Room.objects.values_list(*fields).get(pk=room.pk)


def join(api, room, **extra):
    r = api.post(url(room, "join/"), **extra)
    assert r.status_code == 202, r.content
    return r.json()


def beat(api, room, token, action="heartbeat/"):
    return api.post(url(room, action), {"viewer_token": token}, format="json")


def shown(api, room):
    body = api.get(url(room)).json()
    return body["viewer_count"], body["view_count"], body["peak_viewer_count"]


@pytest.fixture(params=["redis", "embedded"])
def mode(request, settings, redis_namespace):
    if request.param == "embedded":
        settings.REDIS_URL = None
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": redis_namespace}
        }
    return request.param


@pytest.fixture
def end(django_capture_on_commit_callbacks):
    """Moves a room to another status with its after-commit receivers run, as in production."""

    def move(room, status):
        with django_capture_on_commit_callbacks(execute=True):
            if status == S.INTERRUPTED:
                services.mark_interrupted(room, source=SRC.CALLBACK)
            elif status == S.LIVE:
                services.mark_live(room, source=SRC.CALLBACK)
            else:
                services.close_room(room, reason=Room.CloseReason.OWNER, source=SRC.API)

    return move


# --- the contract --------------------------------------------------------------------------------


def test_join_returns_count_token_and_interval_then_heartbeat_and_leave(api, live_room, mode, settings):
    settings.HEARTBEAT_INTERVAL = 7
    body = join(api, live_room)
    assert body["viewer_count"] == 1 and body["heartbeat_interval"] == 7
    assert set(body) == {"viewer_count", "viewer_token", "heartbeat_interval"}
    other = join(api, live_room)
    assert other["viewer_count"] == 2 and other["viewer_token"] != body["viewer_token"]
    r = beat(api, live_room, body["viewer_token"])
    assert r.status_code == 202 and r.json() == {"viewer_count": 2}
    for _ in range(2):  # a repeat is a no-op
        r = beat(api, live_room, body["viewer_token"], "leave/")
        assert r.status_code == 202 and r.json() == {"viewer_count": 1}
    assert shown(api, live_room) == (1, 2, 2)


def test_tokens_of_another_room_forged_or_missing_are_400(api, live_room, make_room, make_user, mode):
    other = make_room(make_user(), S.LIVE)
    token = join(api, other)["viewer_token"]
    forged = signing.Signer(salt="another").sign(f"{live_room.pk}.ahacker")
    cases = [
        ({"viewer_token": token}, "belongs to another room"),
        ({"viewer_token": forged}, "not valid"),
        ({"viewer_token": token + "x"}, "not valid"),
        ({}, "required"),
        ({"viewer_token": 5}, "Not a valid string"),
        ({"viewer_token": token, "extra": 1}, "Unknown field"),
    ]
    for body, message in cases:
        for action in ("heartbeat/", "leave/"):
            r = api.post(url(live_room, action), body, format="json")
            assert r.status_code == 400 and r.json()["code"] == "invalid", (body, r.json())
            assert message in r.json()["detail"]
    r = api.generic("POST", url(live_room, "heartbeat/"), "viewer_token=x", content_type="text/plain")
    assert r.status_code == 415 and r.json()["code"] == "unsupported_media_type"
    r = api.generic("POST", url(live_room, "heartbeat/"), "{", content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "parse_error"
    r = api.generic("POST", url(live_room, "heartbeat/"), "[" * 100_000, content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "parse_error"
    assert shown(api, live_room)[0] == 0 and shown(api, other)[0] == 1


def test_rooms_not_live_are_409_unknown_ones_404(api, make_room, streamer, make_user, mode):
    live = make_room(make_user(), S.LIVE)
    join(api, live)
    for status, code in [(S.CREATED, "room_not_live"), (S.INTERRUPTED, "room_not_live"), (S.CLOSED, "room_closed")]:
        room = make_room(make_user(), status)
        forged = counters.token_for(room.pk, "aany")
        for action, body in [
            ("join/", None),
            ("heartbeat/", {"viewer_token": forged}),
            ("leave/", {"viewer_token": forged}),
        ]:
            r = api.post(url(room, action), body, format="json")
            assert r.status_code == 409 and r.json()["code"] == code
    unknown = counters.token_for(999999, "aany")
    for action in ("join/", "heartbeat/", "leave/", "like/"):
        body = {"viewer_token": unknown} if action in ("heartbeat/", "leave/") else None
        r = api.post(f"/api/v1/rooms/999999/{action}", body, format="json")
        assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert beat(api, live, unknown).status_code == 400  # a token of another room, even an unknown one
    assert api.get("/api/v1/rooms/1/join/").status_code == 405


def test_a_user_in_three_tabs_counts_once(api, client_for, viewer, live_room, mode):
    tabs = [client_for(viewer) for _ in range(3)]
    tokens = [join(tab, live_room)["viewer_token"] for tab in tabs]
    assert [beat(tab, live_room, t).json()["viewer_count"] for tab, t in zip(tabs, tokens, strict=True)] == [1] * 3
    assert join(api, live_room)["viewer_count"] == 2  # an anonymous viewer is someone else
    assert shown(api, live_room) == (2, 2, 2)


def test_a_viewer_who_stops_heartbeating_drops_out_after_the_timeout(api, live_room, mode, settings):
    settings.VIEWER_TIMEOUT = 1
    quiet = join(api, live_room)["viewer_token"]
    time.sleep(0.55)
    steady = join(api, live_room)["viewer_token"]
    time.sleep(0.5)  # quiet: over 1 s since its join; steady: about 0.5 s since its own
    assert beat(api, live_room, steady).json() == {"viewer_count": 1}
    assert beat(api, live_room, quiet).json() == {"viewer_count": 2}  # back, once
    assert beat(api, live_room, quiet).json() == {"viewer_count": 2}
    time.sleep(1.1)  # nobody heartbeats: the flush drops them, with no request to the room
    tasks.flush_counters()
    assert stored(live_room, "viewer_count", "view_count", "peak_viewer_count") == (0, 2, 2)
    assert shown(api, live_room) == (0, 2, 2)


def test_views_and_peak_survive_the_flush_and_the_rooms_end(api, live_room, mode, end):
    tokens = [join(api, live_room)["viewer_token"] for _ in range(4)]
    for token in tokens[:3]:
        beat(api, live_room, token, "leave/")
    join(api, live_room)
    tasks.flush_counters()
    assert stored(live_room, "viewer_count", "view_count", "peak_viewer_count") == (2, 5, 4)
    end(live_room, S.INTERRUPTED)
    assert beat(api, live_room, tokens[3]).json()["code"] == "room_not_live"
    end(live_room, S.LIVE)
    assert shown(api, live_room) == (0, 5, 4)  # nobody is watching a room that came back
    assert beat(api, live_room, tokens[3]).json() == {"viewer_count": 1}  # ... until they say so
    assert shown(api, live_room) == (1, 5, 4)  # seen before: no new view
    join(api, live_room)
    end(live_room, S.CLOSED)
    tasks.flush_counters()
    assert stored(live_room, "viewer_count", "view_count", "peak_viewer_count") == (0, 6, 4)
    owner_view = api.get(url(live_room))
    assert owner_view.status_code == 404  # not public any more; the counts stay in the row
    if mode == "embedded":
        assert not RoomViewer.objects.filter(room=live_room).exists()


def test_a_missed_end_signal_still_resets_the_count(api, live_room, mode):
    join(api, live_room)
    counters.flush()
    services.close_room(live_room, reason=Room.CloseReason.OWNER, source=SRC.API)  # its signal is lost
    tasks.flush_counters()
    assert stored(live_room, "viewer_count", "view_count") == (0, 1)
    assert join_status(api, live_room) == 409
    assert not RoomViewer.objects.filter(room=live_room).exists()


def join_status(api, room):
    return api.post(url(room, "join/")).status_code


def test_viewer_counts_never_go_negative(api, live_room, mode):
    token = join(api, live_room)["viewer_token"]
    stranger = counters.token_for(live_room.pk, "anever-joined")
    assert [beat(api, live_room, t, "leave/").json()["viewer_count"] for t in (token, token, stranger)] == [0, 0, 0]
    tasks.flush_counters()
    assert stored(live_room, "viewer_count") == (0,)


@pytest.mark.django_db(transaction=True)
def test_1000_threads_joining_and_leaving_end_at_the_exact_count(live_room):
    counters.like(live_room.pk, 1)  # loads the room into Redis: the threads need no database
    viewers = [counters.new_viewer() for _ in range(1000)]
    start = threading.Barrier(1000)
    pool = threading.Semaphore(90)  # the shared Redis client's pool holds 100 connections
    answers = []

    def watch(n):
        start.wait()
        with pool:
            answers.append(counters.join(live_room.pk, viewers[n]))
            if n % 4:  # three in four leave again, twice
                counters.leave(live_room.pk, viewers[n])
                counters.leave(live_room.pk, viewers[n])

    threads = [threading.Thread(target=watch, args=(n,)) for n in range(1000)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counters.heartbeat(live_room.pk, viewers[0]) == 250
    assert max(answers) <= 1000 and len(answers) == 1000
    tasks.flush_counters()
    watching, views = stored(live_room, "viewer_count", "view_count")
    assert watching == 250
    assert abs(views - 1000) <= 20  # a HyperLogLog estimate: standard error 0.81 %
    assert 250 < stored(live_room, "peak_viewer_count")[0] <= 1000


@pytest.mark.django_db(transaction=True)
def test_embedded_mode_concurrent_joins_and_leaves_are_exact(settings, live_room):
    settings.REDIS_URL = None
    viewers = [counters.new_viewer() for _ in range(64)]

    def watch(chunk):
        for viewer in chunk:
            counters.join(live_room.pk, viewer)
            if viewer in viewers[::2]:
                counters.leave(live_room.pk, viewer)
        connections.close_all()

    threads = [threading.Thread(target=watch, args=(viewers[n::8],)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stored(live_room, "viewer_count", "view_count") == (32, 64)


def test_ordering_by_viewers_ranks_by_watching_now(api, make_room, make_user, mode):
    rooms = [make_room(make_user(), S.LIVE) for _ in range(3)]
    tokens = {
        room.pk: [join(api, room)["viewer_token"] for _ in range(n)] for room, n in zip(rooms, (3, 1, 2), strict=True)
    }
    tasks.flush_counters()
    ranked = [r["id"] for r in api.get("/api/v1/rooms/?ordering=-viewer_count").json()["results"]]
    assert ranked == [rooms[0].pk, rooms[2].pk, rooms[1].pk]
    for token in tokens[rooms[0].pk]:
        beat(api, rooms[0], token, "leave/")
    tasks.flush_counters()  # ... at most one flush behind
    ranked = [r["id"] for r in api.get("/api/v1/rooms/?ordering=-viewer_count").json()["results"]]
    assert ranked == [rooms[2].pk, rooms[1].pk, rooms[0].pk]


# --- the throttle and the budget -----------------------------------------------------------------


def test_throttle_is_per_user_when_signed_in_and_per_address_otherwise(
    api, client_for, make_user, live_room, mode, monkeypatch
):
    monkeypatch.setattr(CounterThrottle, "THROTTLE_RATES", {"counter": "2/min"})
    alice, bob = client_for(make_user()), client_for(make_user())
    token = join(alice, live_room)["viewer_token"]
    assert beat(alice, live_room, token).status_code == 202
    assert beat(api, live_room, token).status_code == 429  # alice's token: alice's budget, from any address
    assert alice.post(url(live_room, "like/")).status_code == 429
    assert [bob.post(url(live_room, "like/")).status_code for _ in range(3)] == [202, 202, 429]
    assert [api.post(url(live_room, "join/")).status_code for _ in range(3)] == [202, 202, 429]
    r = api.post(url(live_room, "join/"), REMOTE_ADDR="10.0.0.9")
    assert r.status_code == 202
    r = api.post(url(live_room, "like/"))
    assert r.status_code == 429 and 1 <= int(r["Retry-After"]) <= 60 and r.json()["code"] == "throttled"


def test_bad_credentials_are_401_and_sessions_need_csrf(api, live_room, viewer, mode):
    r = api.post(url(live_room, "join/"), HTTP_AUTHORIZATION="Token nope")
    assert r.status_code == 401 and r["WWW-Authenticate"] == "Token"
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(viewer)
    assert browser.post(url(live_room, "join/")).status_code == 403
    assert browser.post(url(live_room, "like/"), "{}", content_type="application/json").status_code == 403
    assert shown(api, live_room)[0] == 0


def test_join_heartbeat_leave_and_like_cost_no_query_and_one_redis_round_trip(
    api, client_for, viewer, live_room, django_assert_num_queries, redis_round_trips
):
    counters.like(live_room.pk, 1)  # the first change loads the live set
    signed_in = client_for(viewer)
    signed_in.post(url(live_room, "join/"))  # DRF's token model, warmed up
    redis_round_trips.clear()
    with django_assert_num_queries(0):
        token = join(api, live_room)["viewer_token"]
        assert beat(api, live_room, token).status_code == 202
        assert api.post(url(live_room, "like/"), {"count": 3}, format="json").json() == {"like_count": 4}
        assert beat(api, live_room, token, "leave/").json() == {"viewer_count": 1}
    assert len(redis_round_trips) == 4
    user_token = counters.token_for(live_room.pk, counters.new_viewer(viewer.pk))
    redis_round_trips.clear()
    with django_assert_num_queries(0):  # the token names the user: no credentials to check
        assert beat(signed_in, live_room, user_token).json() == {"viewer_count": 1}
        assert beat(signed_in, live_room, user_token, "leave/").json() == {"viewer_count": 0}
    with django_assert_num_queries(1):  # a signed-in join / like: the credentials' one lookup
        assert join(signed_in, live_room)["viewer_count"] == 1
    assert len(redis_round_trips) == 3


def test_join_all_counts_many_viewers_in_few_round_trips(live_room, mode, redis_round_trips, monkeypatch):
    counters.like(live_room.pk, 1)
    redis_round_trips.clear()
    viewers = [counters.new_viewer() for _ in range(25)]
    assert counters.join_all(live_room.pk, viewers + viewers[:5], batch=10) == 25
    if mode == "redis":
        # the first alone, then 29 in 3 pipelines (each with redis-py's check that the script is loaded)
        assert len(redis_round_trips) <= 1 + 3 * 2
    assert counters.heartbeat(live_room.pk, viewers[0]) == 25
    if mode == "redis":  # the live set's trust expires between the batches: the joins still count
        from infra.redis import get_redis, key

        real_join = counters.join

        def join_then_expire(*args, **kwargs):
            count = real_join(*args, **kwargs)
            get_redis().delete(key("counters", "ready"))
            return count

        monkeypatch.setattr(counters, "join", join_then_expire)
        assert counters.join_all(live_room.pk, [viewers[0], *(counters.new_viewer() for _ in range(5))], batch=2) == 30


def test_expiry_trims_only_what_is_due(live_room, settings, redis_round_trips):
    """A change on a room with many viewers removes the expired ones and leaves the rest alone:
    the room's set is never walked viewer by viewer from Python."""
    from infra.redis import get_redis, key

    settings.VIEWER_TIMEOUT = 1
    for n in range(300):
        counters.join(live_room.pk, f"aold{n}")
    settings.VIEWER_TIMEOUT = 60
    time.sleep(1.1)
    redis_round_trips.clear()
    assert counters.join(live_room.pk, "anew") == 1
    assert len(redis_round_trips) == 1
    assert get_redis().zcard(key("counters", "viewers", live_room.pk)) == 1


# --- Xiaozhibo ------------------------------------------------------------------------------------


@pytest.fixture
def xzb_room(client, settings):
    settings.XIAOZHIBO_COMPAT = True
    xzb.ok(client, xzb.request_lvb_addr())
    xzb.ok(client, xzb.change_status())
    return Room.objects.get(owner__xiaozhibo_account__userid="u_1001", status=S.LIVE)


def test_enter_and_quit_group_are_join_and_leave_of_that_userid(client, api, xzb_room, mode):
    for _ in range(2):
        xzb.ok(client, xzb.enter_group(userid="v_1"))
    xzb.ok(client, xzb.enter_group(userid="v_2"))
    assert shown(api, xzb_room) == (2, 2, 2)
    xzb.ok(client, xzb.quit_group(userid="v_1"))
    xzb.ok(client, xzb.quit_group(userid="v_1"))
    xzb.ok(client, xzb.quit_group(userid="never-entered"))
    assert shown(api, xzb_room) == (1, 2, 2)


def test_xiaozhibo_viewers_need_no_heartbeat(client, api, xzb_room, mode, settings):
    settings.VIEWER_TIMEOUT = 1
    settings.XIAOZHIBO_VIEWER_TIMEOUT = 60
    xzb.ok(client, xzb.enter_group(userid="v_1"))
    join(api, xzb_room)
    time.sleep(1.1)
    tasks.flush_counters()
    assert shown(api, xzb_room)[0] == 1  # the app's viewer still counts, the silent web viewer not
    from xiaozhibo.actions import viewer_of_userid

    assert counters.heartbeat(xzb_room.pk, viewer_of_userid("v_1")) == 1  # a shorter time for the same viewer
    time.sleep(1.1)  # ... does not shorten the time the app's EnterGroup gave
    tasks.flush_counters()
    assert shown(api, xzb_room)[0] == 1


def test_fetch_group_member_list_lists_who_watches_now(client, api, client_for, viewer, xzb_room, mode):
    for n in range(12):
        xzb.ok(
            client,
            xzb.enter_group(userid=f"v_{n:02d}", nickname=f"Viewer {n}", headpic=f"http://img.example.com/{n}.jpg"),
        )
    xzb.ok(client, xzb.quit_group(userid="v_03"))
    join(api, xzb_room)  # anonymous: counted, but nobody to list
    join(client_for(viewer), xzb_room)  # a liveroom user: listed by username
    body = {
        "Action": "FetchGroupMemberList",
        "liveuserid": "u_1001",
        "groupid": "@TGS#aHOST1001",
        "pageno": 1,
        "pagesize": 5,
    }
    page = xzb.ok(client, body)  # pagesize below 10: 10
    assert page["totalcount"] == 12 and len(page["memberlist"]) == 10
    listed = page["memberlist"]  # by user id: the liveroom user was created first
    assert listed[0] == {"userid": "viewer", "nickname": "Viewer Vic", "headpic": ""}
    assert listed[1] == {"userid": "v_00", "nickname": "Viewer 0", "headpic": "http://img.example.com/0.jpg"}
    assert "v_03" not in [m["userid"] for m in listed]
    rest = xzb.ok(client, {**body, "pageno": 2})["memberlist"]
    assert [m["userid"] for m in rest] == ["v_10", "v_11"]
    assert xzb.ok(client, {**body, "pageno": 3}) == {"totalcount": 12, "memberlist": []}
    assert len(xzb.ok(client, {**body, "pagesize": 100})["memberlist"]) == 12
    xzb.error(client, {**body, "liveuserid": "nobody"}, 2003)
    xzb.error(client, {k: v for k, v in body.items() if k != "groupid"}, 1000)
    assert shown(api, xzb_room)[0] == 13
