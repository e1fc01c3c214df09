"""Cursor paging of the public list: whole walks stay honest while the list changes under them."""

import threading

import pytest

from infra.redis import get_redis, key
from rooms import counters, cursors, services
from rooms.models import Room, RoomEvent
from tests.churn import Churn

pytestmark = pytest.mark.django_db
S = Room.Status
URL = "/api/v1/rooms/"
ORDERINGS = ["-started_at", "-viewer_count", "-like_count"]


def ids(body):
    return [room["id"] for room in body["results"]]


def walk(api, params, between=None):
    """Every page from the first by `next`: (ids in order, the pages' bodies)."""
    body = api.get(URL, params).json()
    pages = [body]
    while body["next"]:
        if between:
            between()
        response = api.get(body["next"])
        assert response.status_code == 200, response.json()
        body = response.json()
        pages.append(body)
    return [pk for page in pages for pk in ids(page)], pages


def cursor_of(link):
    return link.split("cursor=", 1)[1].split("&", 1)[0]


def snapshot_key(link, field):
    return key("rooms", "snapshot", cursors.Cursor.decode(cursor_of(link), field).snapshot)


# --- walking ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_a_cursor_walk_is_the_list_in_order(api, live_rooms, ordering):
    live_rooms(23)
    everything = ids(api.get(URL, {"ordering": ordering, "page_size": 100}).json())

    walked, pages = walk(api, {"ordering": ordering, "page_size": 5})

    assert walked == everything and len(pages) == 5
    assert all(page["count"] == 23 for page in pages)
    assert pages[0]["previous"] is None and pages[-1]["next"] is None
    assert all("cursor=" in page["next"] and "page=" not in page["next"] for page in pages[:-1])
    back, body = [], pages[-1]
    while body["previous"]:
        body = api.get(body["previous"]).json()
        back.insert(0, ids(body))
    assert back == [ids(page) for page in pages[:-1]]  # `previous` walks the same pages back to the top


def test_count_orderings_walk_a_snapshot_and_started_at_a_keyset(api, live_rooms):
    live_rooms(6)
    for ordering, field, snapshot in (("-started_at", "started_at", False), ("-like_count", "like_count", True)):
        link = api.get(URL, {"ordering": ordering, "page_size": 2}).json()["next"]
        cursor = cursors.Cursor.decode(cursor_of(link), field)
        assert (cursor.snapshot is not None) is snapshot


def test_a_snapshot_walk_shows_current_counts_in_the_pinned_order(api, live_rooms):
    rooms = live_rooms(6)
    first = api.get(URL, {"ordering": "-like_count", "page_size": 3}).json()
    pinned = ids(first)
    walked, _ = walk(api, {"ordering": "-like_count", "page_size": 3})
    low = walked[-1]
    counters.like(low, 500)
    counters.flush()  # the database now ranks it first
    second = api.get(first["next"]).json()
    assert ids(second) == walked[3:]  # the order is the snapshot's ...
    assert second["results"][-1]["like_count"] == Room.objects.get(pk=low).like_count  # ... the count is current
    assert ids(api.get(URL, {"ordering": "-like_count", "page_size": 3}).json())[0] == low  # a new walk sees it
    assert pinned == walked[:3] and len(rooms) == 6


def test_a_room_that_ended_is_left_out_of_its_snapshot_page(api, live_rooms):
    rooms = live_rooms(4)
    first = api.get(URL, {"ordering": "-viewer_count", "page_size": 2}).json()
    walked, _ = walk(api, {"ordering": "-viewer_count", "page_size": 2})
    gone = Room.objects.get(pk=walked[2])
    services.close_room(gone, reason=Room.CloseReason.OWNER, source=RoomEvent.Source.API)
    assert ids(api.get(first["next"]).json()) == [walked[3]]
    assert len(rooms) == 4


def test_page_numbers_keep_working_but_not_with_a_cursor(api, live_rooms):
    live_rooms(5)
    second = api.get(URL, {"page": 2, "page_size": 2}).json()
    assert "page=3" in second["next"] and second["count"] == 5
    link = api.get(URL, {"page_size": 2}).json()["next"]
    mixed = api.get(link + "&page=2")
    assert mixed.status_code == 400 and "cursor" in mixed.json()["fields"]


def test_a_cursor_walk_of_a_search_stays_in_the_search(api, live_rooms):
    live_rooms(12)  # titles "Show 0".."Show 11": "show 1" matches 1, 10, 11
    walked, pages = walk(api, {"search": "show 1", "ordering": "-viewer_count", "page_size": 2})
    assert sorted(room["title"] for page in pages for room in page["results"]) == ["Show 1", "Show 10", "Show 11"]
    assert len(walked) == 3 and pages[0]["count"] == 3


def test_without_snapshots_the_count_orderings_walk_a_keyset(api, live_rooms, settings, redis_round_trips):
    settings.LIST_SNAPSHOT_TTL = 0
    live_rooms(7)
    redis_round_trips.clear()
    walked, _ = walk(api, {"ordering": "-viewer_count", "page_size": 3})
    assert walked == ids(api.get(URL, {"ordering": "-viewer_count", "page_size": 100}).json())
    assert not [sent for sent in redis_round_trips if b"snapshot" in b"".join(sent)]


# --- cost --------------------------------------------------------------------------------------------


def test_a_keyset_cursor_page_costs_three_queries_and_one_round_trip(
    api, live_rooms, django_assert_num_queries, redis_round_trips
):
    live_rooms(30)
    link = api.get(URL, {"page_size": 5}).json()["next"]
    for _ in range(3):
        link = api.get(link).json()["next"]
    redis_round_trips.clear()
    with django_assert_num_queries(3):  # the count, the page's ids from its keyset, the rooms
        assert len(ids(api.get(link).json())) == 5
    assert len(redis_round_trips) == 1  # the counts


def test_a_snapshot_costs_one_round_trip_per_page(api, live_rooms, django_assert_num_queries, redis_round_trips):
    live_rooms(30)
    redis_round_trips.clear()
    with django_assert_num_queries(2):  # every id in order (index-only), the rooms
        link = api.get(URL, {"ordering": "-viewer_count", "page_size": 5}).json()["next"]
    assert len(redis_round_trips) == 1  # snapshot stored and the page's counts read, together
    for _ in range(4):
        redis_round_trips.clear()
        with django_assert_num_queries(1):  # the rooms: the ids and the count come from the snapshot
            body = api.get(link).json()
        assert len(redis_round_trips) == 1 and len(ids(body)) == 5
        link = body["next"]


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_cursor_pages_are_cached_like_pages(
    api, list_cache, live_rooms, django_assert_num_queries, redis_round_trips, ordering
):
    live_rooms(12)
    second = api.get(api.get(URL, {"ordering": ordering, "page_size": 4}).json()["next"])
    link = second.json()["next"]
    redis_round_trips.clear()
    with django_assert_num_queries(3 if ordering == "-started_at" else 1):
        third = api.get(link)
    assert len(redis_round_trips) == 3  # lookup, the page (counts, or snapshot and counts), store
    redis_round_trips.clear()
    with django_assert_num_queries(0):
        again = api.get(link)
    assert len(redis_round_trips) == 1
    assert again.content == third.content and again["Content-Type"] == "application/json"
    assert ids(third.json()) != ids(second.json())  # each cursor is a page of its own in the cache


def test_a_cached_cursor_page_follows_membership_changes(
    api, list_cache, live_rooms, make_room, make_user, django_capture_on_commit_callbacks
):
    rooms = live_rooms(6)
    link = api.get(URL, {"page_size": 3}).json()["next"]
    assert ids(api.get(link).json()) == [rooms[2].pk, rooms[1].pk, rooms[0].pk]
    with django_capture_on_commit_callbacks(execute=True):
        services.close_room(rooms[1], reason=Room.CloseReason.OWNER, source=RoomEvent.Source.API)
    assert ids(api.get(link).json()) == [rooms[2].pk, rooms[0].pk]


# --- bad cursors -------------------------------------------------------------------------------------


def test_an_expired_snapshot_is_a_400_that_says_start_again(api, live_rooms):
    live_rooms(6)
    link = api.get(URL, {"ordering": "-like_count", "page_size": 2}).json()["next"]
    name = snapshot_key(link, "like_count")
    assert 0 < get_redis().ttl(name) <= 120  # LIST_SNAPSHOT_TTL
    get_redis().pexpire(name, 1)
    threading.Event().wait(0.01)

    response = api.get(link)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "cursor_expired" and "start again" in body["detail"]
    assert body["first"] == "http://testserver/api/v1/rooms/?ordering=-like_count&page_size=2"
    assert len(ids(api.get(body["first"]).json())) == 2


def test_a_cursor_naming_a_snapshot_that_never_was_is_expired(api, live_rooms):
    live_rooms(3)
    scope = cursors.scope_of("-viewer_count")
    forged = cursors.Cursor(scope, snapshot="0" * 24, offset=2).encode()  # well signed, unknown
    response = api.get(URL, {"ordering": "-viewer_count", "cursor": forged})
    assert response.status_code == 400 and response.json()["code"] == "cursor_expired"


def _tampered(link):
    cursor = cursor_of(link)
    payload, signature = cursor.split(".")
    flipped = payload[:-3] + ("A" if payload[-3] != "A" else "B") + payload[-2:]
    return [
        f"{flipped}.{signature}",  # another position, old signature
        f"{payload}.{signature[:-1]}",  # a signature cut short
        payload,  # no signature at all
        "cD0yMDI2LTEyLTAx",  # a plain DRF cursor (base64 of p=...)
        "%ff%fe",
        "",
        "x" * 5000,
    ]


@pytest.mark.parametrize("ordering", ["-started_at", "-viewer_count"])
def test_a_tampered_cursor_is_a_400_never_a_500(api, live_rooms, ordering):
    live_rooms(6)
    link = api.get(URL, {"ordering": ordering, "page_size": 2}).json()["next"]
    for cursor in _tampered(link):
        response = api.get(f"{URL}?ordering={ordering}&page_size=2&cursor={cursor}")
        assert response.status_code == 400, cursor
        assert response.json()["code"] == "cursor_invalid" and response.json()["first"].endswith("page_size=2")


def test_a_cursor_of_another_ordering_or_filter_is_a_400(api, live_rooms):
    live_rooms(6)
    cursor = cursor_of(api.get(URL, {"ordering": "-like_count", "page_size": 2}).json()["next"])
    for params in ({"ordering": "-viewer_count"}, {"ordering": "-like_count", "search": "show"}, {}):
        response = api.get(URL, {**params, "cursor": cursor})
        assert response.status_code == 400 and response.json()["code"] == "cursor_invalid"
        assert "another ordering or filter" in response.json()["detail"]


def test_a_snapshot_cursor_while_redis_is_unreachable_is_a_503(api, live_rooms, settings):
    live_rooms(6)
    link = api.get(URL, {"ordering": "-like_count", "page_size": 2}).json()["next"]
    reachable, settings.REDIS_URL = settings.REDIS_URL, "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        response = api.get(link)
    finally:
        settings.REDIS_URL = reachable  # for the fixture that cleans the test's keys
    assert response.status_code == 503 and response.json()["code"] == "unavailable"
    assert int(response["Retry-After"]) > 0


# --- walks during churn ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("ordering", ORDERINGS)
def test_a_walk_during_churn_finds_every_steady_room_exactly_once(api, list_cache, live_rooms, ordering):
    rooms = live_rooms(130)
    transient = rooms[1::4]  # these may close; the others stay live throughout
    steady = [room for room in rooms if room not in transient]
    with Churn(steady, transient) as churn:
        churn.wait(10)
        walked, pages = walk(api, {"ordering": ordering, "page_size": 7}, between=churn.wait)
    assert len(walked) == len(set(walked)), "a room was shown twice"
    assert {room.pk for room in steady} <= set(walked), "a room live throughout was never shown"
    assert len(pages) >= 14 and churn.opened >= 5 and churn.closed >= 5  # the list really changed meanwhile


def test_without_redis_the_count_orderings_walk_a_keyset(api, live_rooms, settings):
    live_rooms(5)
    link = api.get(URL, {"ordering": "-like_count", "page_size": 2}).json()["next"]
    reachable, caches = settings.REDIS_URL, settings.CACHES
    settings.REDIS_URL = None  # the embedded mode: the database holds the counts, no snapshots
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    try:
        walked, pages = walk(api, {"ordering": "-like_count", "page_size": 2})
        old = api.get(link)  # a snapshot cursor handed out before: start again
    finally:
        settings.REDIS_URL, settings.CACHES = reachable, caches  # for the fixture that cleans the test's keys
    assert walked == ids(api.get(URL, {"ordering": "-like_count", "page_size": 100}).json())
    assert cursors.Cursor.decode(cursor_of(pages[0]["next"]), "like_count").snapshot is None
    assert old.status_code == 400 and old.json()["code"] == "cursor_expired"
