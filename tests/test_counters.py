"""Viewer and like counters: Redis mode (the default of the suite) and the embedded mode."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.db import connections

from infra.redis import get_redis, key
from rooms import counters, services, tasks
from rooms.models import Room, RoomEvent
from rooms.throttling import CounterThrottle

pytestmark = pytest.mark.django_db
S = Room.Status
SRC = RoomEvent.Source


def url(room, action=""):
    return f"/api/v1/rooms/{room.pk}/{action}"


def stored(room, field="like_count"):
    return Room.objects.values_list(field, flat=True).get(pk=room.pk)


def like(room, times=1):
    return [counters.like(room.pk, 1) for _ in range(times)][-1]


@pytest.fixture
def embedded(settings, redis_namespace):
    settings.REDIS_URL = None
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": redis_namespace}
    }


# --- Redis mode: cost per request ---------------------------------------------------------------


def test_responses_include_counts_not_yet_flushed(api, live_room, make_user, make_room):
    other = make_room(make_user(), S.LIVE)
    api.post(url(live_room, "like/"), {"count": 7}, format="json")
    api.post(url(live_room, "join/"))
    assert stored(live_room) == 0  # nothing written to the database yet
    body = api.get(url(live_room)).json()
    assert (body["viewer_count"], body["like_count"]) == (1, 7)
    listed = {room["id"]: room for room in api.get("/api/v1/rooms/").json()["results"]}
    assert (listed[live_room.pk]["like_count"], listed[other.pk]["like_count"]) == (7, 0)
    assert [r["id"] for r in api.get("/api/v1/rooms/?ordering=-like_count").json()["results"]][0] == other.pk

    assert counters.flush() == 1
    assert (stored(live_room, "viewer_count"), stored(live_room)) == (1, 7)
    assert api.get(url(live_room)).json()["like_count"] == 7


def test_2000_concurrent_likes_from_threads_end_as_exactly_2000(live_room):
    like(live_room)
    counters.like(live_room.pk, -1)
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda _: counters.like(live_room.pk, 1), range(2000)))
    assert sorted(answers) == list(range(1, 2001))  # every like saw its own count
    counters.flush()
    assert stored(live_room) == 2000


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ('{"count": 3}', "application/json", 3),
        ('{"count": "3"}', "application/json", None),  # a number as text: the schema says integer
        ('{"count": 3.0}', "application/json", 3),
        ("", "application/json", 1),
        ("{}", "application/json", 1),
        ("count=3", "application/x-www-form-urlencoded", None),
        ('{"count": true}', "application/json", None),
        ("[3]", "application/json", None),
        ("{", "application/json", None),
        ('{"count": 2, "extra": 1}', "application/json", 2),  # README: a like's body is read leniently
    ],
)
def test_like_bodies_are_taken_as_the_api_documents(api, live_room, body, content_type, expected):
    r = api.generic("POST", url(live_room, "like/"), body, content_type=content_type)
    if expected is None:
        assert r.status_code in (400, 415) and stored(live_room) == 0
        assert api.get(url(live_room)).json()["like_count"] == 0
    else:
        assert r.status_code == 202 and r.json() == {"like_count": expected}


def test_unlikes_and_leaves_never_go_below_zero(live_room):
    assert counters.like(live_room.pk, 2) == 2
    assert counters.like(live_room.pk, -1) == 1
    assert counters.like(live_room.pk, -5) == 0
    assert counters.like(live_room.pk, 1) == 1
    viewer = counters.new_viewer()
    assert counters.join(live_room.pk, viewer) == 1
    assert [counters.leave(live_room.pk, viewer) for _ in range(3)] == [0, 0, 0]
    assert counters.leave(live_room.pk, counters.new_viewer()) == 0  # never joined
    counters.flush()
    assert (stored(live_room), stored(live_room, "viewer_count")) == (1, 0)


# --- Redis mode: the flush ------------------------------------------------------------------------


class Killed(BaseException):
    """Stands for the process dying: not an Exception, so nothing on the way catches it."""


def test_flush_killed_between_reading_and_committing_loses_nothing(live_room, monkeypatch):
    like(live_room, 5)
    real_write = counters._write

    def die(rows):
        raise Killed

    monkeypatch.setattr(counters, "_write", die)
    with pytest.raises(Killed):
        counters.flush()
    assert stored(live_room) == 0
    monkeypatch.setattr(counters, "_write", real_write)
    like(live_room, 2)
    counters.flush()
    assert stored(live_room) == 7
    counters.flush()
    assert stored(live_room) == 7


def test_flush_killed_after_committing_counts_once(live_room, monkeypatch):
    like(live_room, 5)
    scripts = counters._scripts()
    real_drop = scripts.drop

    def die(**kwargs):
        raise Killed

    monkeypatch.setattr(scripts, "drop", die)
    with pytest.raises(Killed):
        counters.flush()
    assert stored(live_room) == 5
    monkeypatch.setattr(scripts, "drop", real_drop)
    assert like(live_room) == 6
    counters.flush()
    assert stored(live_room) == 6


def test_an_older_flush_finishing_last_does_not_undo_a_newer_one(live_room, monkeypatch):
    like(live_room, 5)
    real_write = counters._write
    calls = []

    def slow_write(rows):
        calls.append(rows)
        if len(calls) == 1:  # flush A has read 5; meanwhile more likes and a whole flush B
            like(live_room, 3)
            counters.flush()
            assert stored(live_room) == 8
        real_write(rows)

    monkeypatch.setattr(counters, "_write", slow_write)
    counters.flush()
    assert stored(live_room) == 8
    assert counters.flush() == 0
    assert stored(live_room) == 8


def test_room_closing_while_a_flush_writes_keeps_its_last_likes(
    live_room, monkeypatch, django_capture_on_commit_callbacks
):
    like(live_room, 5)
    real_write = counters._write

    def write_while_room_closes(rows):
        like(live_room, 3)
        with django_capture_on_commit_callbacks(execute=True):
            services.close_room(live_room, reason=Room.CloseReason.OWNER, source=SRC.API)
        real_write(rows)

    monkeypatch.setattr(counters, "_write", write_while_room_closes)
    counters.flush()
    assert stored(live_room) == 5
    monkeypatch.setattr(counters, "_write", real_write)
    counters.flush()
    assert stored(live_room) == 8


def test_load_racing_a_flush_does_not_bring_back_old_counts(live_room, monkeypatch, django_capture_on_commit_callbacks):
    like(live_room, 4)
    with django_capture_on_commit_callbacks(execute=True):
        services.mark_interrupted(live_room, source=SRC.CALLBACK)
    services.mark_live(live_room, source=SRC.CALLBACK)  # back live, but this signal is lost
    scripts = counters._scripts()
    real_load = scripts.load
    loads = []

    def load_after_a_flush(**kwargs):
        loads.append(kwargs["args"])
        if len(loads) == 1:  # the database was read; now a flush writes the 4 likes and drops them
            counters.flush()
        return real_load(**kwargs)

    monkeypatch.setattr(scripts, "load", load_after_a_flush)
    assert like(live_room) == 5
    counters.flush()
    assert stored(live_room) == 5


@pytest.mark.django_db(transaction=True)
def test_flushes_running_at_once_apply_each_increment_once(make_room, make_user):
    rooms = [make_room(make_user(), S.LIVE) for _ in range(3)]
    like(rooms[0])
    done = threading.Event()

    def liker(room):
        for _ in range(300):
            counters.like(room.pk, 1)

    def flusher():
        while not done.is_set():
            counters.flush()
        connections.close_all()

    flushers = [threading.Thread(target=flusher) for _ in range(3)]
    for thread in flushers:
        thread.start()
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(liker, rooms * 2))
    done.set()
    for thread in flushers:
        thread.join()
    counters.flush()
    assert [stored(room) for room in rooms] == [601, 600, 600]


def test_flush_task_and_command(live_room, capsys):
    like(live_room, 4)
    assert tasks.flush_counters() == 1
    assert stored(live_room) == 4
    like(live_room)
    call_command("flush_counters")
    assert "Flushed the counts of 1 room(s)." in capsys.readouterr().out
    assert stored(live_room) == 5


# --- Redis mode: the live set follows the rooms and heals ----------------------------------------


def test_closed_room_refuses_likes_at_once(api, live_room, django_capture_on_commit_callbacks):
    api.post(url(live_room, "like/"))
    with django_capture_on_commit_callbacks(execute=True):
        services.close_room(live_room, reason=Room.CloseReason.OWNER, source=SRC.API)
    r = api.post(url(live_room, "like/"))
    assert r.status_code == 409 and r.json()["code"] == "room_closed"
    counters.flush()
    assert stored(live_room) == 1
    assert get_redis().hget(key("counters", "counts"), f"{live_room.pk}:seq") is None  # written, then dropped


def test_missed_close_signal_is_repaired_by_the_flush_task(api, live_room):
    api.post(url(live_room, "like/"))
    services.close_room(live_room, reason=Room.CloseReason.OWNER, source=SRC.API)  # its signal is lost
    tasks.flush_counters()
    r = api.post(url(live_room, "like/"))
    assert r.status_code == 409 and r.json()["code"] == "room_closed"
    assert stored(live_room) == 1


def test_missed_live_signal_is_repaired_on_the_next_like(api, make_room, streamer):
    room = make_room(streamer)
    assert api.post(url(room, "like/")).status_code == 409
    services.mark_live(room, source=SRC.API)  # its signal is lost
    assert api.post(url(room, "like/")).json() == {"like_count": 1}


def test_interrupted_room_keeps_its_counts_when_back_live(api, live_room, django_capture_on_commit_callbacks):
    api.post(url(live_room, "like/"), {"count": 4}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        services.mark_interrupted(live_room, source=SRC.CALLBACK)
    assert api.post(url(live_room, "like/")).json()["code"] == "room_not_live"
    counters.flush()
    with django_capture_on_commit_callbacks(execute=True):
        services.mark_live(live_room, source=SRC.CALLBACK)
    assert api.post(url(live_room, "like/")).json() == {"like_count": 5}


def test_counts_survive_a_redis_restart_up_to_the_last_flush(api, live_room):
    api.post(url(live_room, "like/"), {"count": 6}, format="json")
    counters.flush()
    client = get_redis()
    client.delete(*client.scan_iter(key("counters", "*")))  # what a restart without persistence leaves
    assert api.get(url(live_room)).json()["like_count"] == 6
    assert api.post(url(live_room, "like/")).json() == {"like_count": 7}
    counters.flush()
    assert stored(live_room) == 7


def test_likes_are_throttled_per_client_in_the_same_round_trip(api, live_room, monkeypatch, redis_round_trips):
    monkeypatch.setattr(CounterThrottle, "THROTTLE_RATES", {"counter": "3/min"})
    for _ in range(3):
        assert api.post(url(live_room, "like/")).status_code == 202
    redis_round_trips.clear()
    r = api.post(url(live_room, "like/"))
    assert r.status_code == 429 and r.json()["code"] == "throttled"
    assert 1 <= int(r["Retry-After"]) <= 60
    assert len(redis_round_trips) == 1
    assert api.get(url(live_room)).json()["like_count"] == 3
    assert api.post(url(live_room, "like/"), REMOTE_ADDR="10.0.0.9").status_code == 202


def test_like_on_a_room_not_live_counts_once_against_the_throttle(api, make_room, streamer, monkeypatch):
    monkeypatch.setattr(CounterThrottle, "THROTTLE_RATES", {"counter": "2/min"})
    room = make_room(streamer, Room.Status.CLOSED)
    for _ in range(2):
        r = api.post(url(room, "like/"))
        assert r.status_code == 409 and r.json()["code"] == "room_closed"
    assert api.post(url(room, "like/")).status_code == 429


# --- embedded mode (no REDIS_URL) ------------------------------------------------------------------


def test_embedded_mode_counts_in_the_database(embedded, api, live_room, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert api.post(url(live_room, "like/"), {"count": 2}, format="json").json() == {"like_count": 2}
    assert api.post(url(live_room, "join/")).json()["viewer_count"] == 1
    assert (stored(live_room), stored(live_room, "viewer_count")) == (2, 1)
    assert counters.like(live_room.pk, -3) == 0
    assert counters.flush() == 0  # nothing expired to recount


def test_embedded_mode_refuses_rooms_that_are_not_live(embedded, api, make_room, streamer):
    room = make_room(streamer, S.CLOSED)
    assert api.post(url(room, "like/")).json()["code"] == "room_closed"
    with pytest.raises(counters.NotLive):
        counters.like(room.pk, 1)


def test_embedded_mode_throttles_with_drf(embedded, api, live_room, monkeypatch):
    monkeypatch.setattr(CounterThrottle, "THROTTLE_RATES", {"counter": "2/min"})
    assert [api.post(url(live_room, "join/")).status_code for _ in range(3)] == [202, 202, 429]


@pytest.mark.django_db(transaction=True)
def test_embedded_mode_concurrent_likes_all_count(embedded, live_room):
    answers = []

    def liker():
        answers.extend(counters.like(live_room.pk, 1) for _ in range(50))
        connections.close_all()

    threads = [threading.Thread(target=liker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == list(range(1, 401))
    assert stored(live_room) == 400


def test_join_on_a_malformed_room_id_is_404(api):
    for path in ("abc/join/", "99999999999999999999999/like/"):
        r = api.post(f"/api/v1/rooms/{path}")
        assert r.status_code == 404 and r.json()["code"] == "not_found"
