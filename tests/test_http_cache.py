"""HTTP caching of API answers (SPEC §14): what shared caches may keep, ETags and 304s."""

import pytest

from rooms import counters
from rooms.models import Room

pytestmark = pytest.mark.django_db
URL = "/api/v1/rooms/"
PUBLIC = "public, max-age=5, stale-while-revalidate=5"


def room_url(room, suffix=""):
    return f"{URL}{room.pk}/{suffix}"


@pytest.mark.parametrize("cached", [True, False], ids=["from-the-cache", "computed"])
def test_public_list_and_live_room_are_public_with_a_strong_etag(api, live_room, settings, cached):
    settings.ROOM_LIST_CACHE_TTL = 5
    for url in (URL, room_url(live_room)):
        first = api.get(url)
        answer = api.get(url) if cached else first
        assert answer.status_code == 200
        assert answer["Cache-Control"] == PUBLIC
        assert answer["ETag"].startswith('"') and answer["ETag"].endswith('"')  # strong: no W/
        assert answer["ETag"] == first["ETag"]


def test_list_revalidation_is_a_304_without_body_query_or_second_round_trip(
    api, list_cache, live_room, django_assert_num_queries, redis_round_trips
):
    tag = api.get(URL)["ETag"]
    redis_round_trips.clear()
    with django_assert_num_queries(0):
        r = api.get(URL, HTTP_IF_NONE_MATCH=tag)
    assert len(redis_round_trips) == 1
    assert r.status_code == 304 and r.content == b""
    assert r["ETag"] == tag and r["Cache-Control"] == PUBLIC


def test_live_room_revalidation_is_a_304_until_its_counts_change(
    api, list_cache, live_room, django_assert_num_queries, redis_round_trips
):
    tag = api.get(room_url(live_room))["ETag"]
    redis_round_trips.clear()
    with django_assert_num_queries(0):
        r = api.get(room_url(live_room), HTTP_IF_NONE_MATCH=tag)
    assert len(redis_round_trips) == 1
    assert r.status_code == 304 and r.content == b""
    counters.like(live_room.pk, 3)
    r = api.get(room_url(live_room), HTTP_IF_NONE_MATCH=tag)
    assert r.status_code == 200 and r.json()["like_count"] == 3 and r["ETag"] != tag


@pytest.mark.parametrize(
    "header, status", [("W/{tag}", 304), ('"other", {tag}', 304), ("*", 304), ('"other"', 200), ("{tag}x", 200)]
)
def test_if_none_match_forms(api, list_cache, live_room, header, status):
    tag = api.get(URL)["ETag"]
    r = api.get(URL, HTTP_IF_NONE_MATCH=header.format(tag=tag))
    assert r.status_code == status


def test_a_changed_list_answers_200_with_a_new_etag(transactional_db, api, list_cache, make_room, streamer, viewer):
    make_room(streamer, Room.Status.LIVE)
    tag = api.get(URL)["ETag"]
    make_room(viewer, Room.Status.LIVE)  # committed: the cache is dropped
    r = api.get(URL, HTTP_IF_NONE_MATCH=tag)
    assert r.status_code == 200 and r["ETag"] != tag and r.json()["count"] == 2


def test_without_the_cache_revalidation_still_answers_304(api, live_room):
    first = api.get(URL)
    assert first["Cache-Control"] == "public, no-cache"  # ROOM_LIST_CACHE_TTL 0: keep, but ask each time
    assert api.get(URL, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert api.get(room_url(live_room), HTTP_IF_NONE_MATCH=api.get(room_url(live_room))["ETag"]).status_code == 304


def test_personal_answers_are_private_no_store(streamer_api, list_cache, make_room, streamer):
    created = streamer_api.post(URL, {"title": "Mine"}, format="json")
    assert created.status_code == 201 and "push_url" in created.json()
    room_id = created.json()["id"]
    answers = [
        created,
        streamer_api.post(f"{URL}{room_id}/push-url/"),  # a push URL
        streamer_api.get(f"{URL}mine/"),  # the owner's rooms
        streamer_api.get(f"{URL}{room_id}/"),  # a room only its owner may see (not live)
        streamer_api.post(f"{URL}{room_id}/live/"),
    ]
    for answer in answers:
        assert answer.status_code in (200, 201), answer.content
        assert answer["Cache-Control"] == "private, no-store", answer.wsgi_request.path
        assert not answer.has_header("ETag")


def test_errors_are_not_cacheable(api, list_cache, live_room):
    for answer in (
        api.get(URL, {"page": 99}),
        api.get(URL, {"ordering": "title"}),
        api.get(f"{URL}999999/"),
        api.post(room_url(live_room, "like/"), {"count": 500}, format="json"),
    ):
        assert answer.status_code >= 400
        assert answer["Cache-Control"] == "no-store" and not answer.has_header("ETag")


def test_other_formats_are_personal(api, list_cache, live_room, settings):
    r = api.get(URL, HTTP_ACCEPT="text/html")
    assert r["Cache-Control"] == "private, no-store"


def test_a_cached_page_keeps_its_etag_beside_it(api, list_cache, live_room):
    from api.httpcache import etag
    from infra.redis import get_redis, key
    from rooms.listcache import ETAG_PREFIX, PageCache

    first = api.get(URL)
    entry = PageCache(first.wsgi_request)
    stored = get_redis().hget(key("answers"), ETAG_PREFIX + entry.field).decode()
    assert stored == first["ETag"] == etag(first.content)
    assert api.get(URL)["ETag"] == stored
