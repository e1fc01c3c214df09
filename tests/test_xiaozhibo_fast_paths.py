"""The Xiaozhibo FetchList and GetUserInfo answered from the same membership-versioned cache as
`GET /rooms/`: what a cached answer costs, and that it is never out of date where it matters."""

import pytest
from django.test import Client

from rooms import counters, services
from rooms.models import Room, RoomEvent

from . import xiaozhibo_client as xzb

pytestmark = pytest.mark.django_db
SRC = RoomEvent.Source


@pytest.fixture(autouse=True)
def compat_on(settings, list_cache):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    settings.XIAOZHIBO_COMPAT = True


@pytest.fixture
def client(django_capture_on_commit_callbacks):
    """The app's client; each request's on-commit work (cache invalidation) runs as it would."""

    class Committing(Client):
        def request(self, **request):
            with django_capture_on_commit_callbacks(execute=True):
                return super().request(**request)

    return Committing()


def open_live(client, userid):
    xzb.ok(client, xzb.request_lvb_addr(userid, groupid=f"@TGS#{userid}", title=f"show of {userid}"))
    xzb.ok(client, xzb.change_status(userid, 0))
    return Room.objects.filter(owner__xiaozhibo_account__userid=userid).latest("created_at")


@pytest.mark.parametrize("pageno", [1, 3])
def test_cached_fetch_list_costs_no_query_and_one_round_trip(
    client, pageno, django_assert_num_queries, redis_round_trips
):
    for n in range(25):
        open_live(client, f"u_{n}")
    first = client.post(xzb.URL, xzb.fetch_list(pageno=pageno, pagesize=10), content_type=xzb.CONTENT_TYPE)
    redis_round_trips.clear()
    with django_assert_num_queries(0):
        again = client.post(xzb.URL, xzb.fetch_list(pageno=pageno, pagesize=10), content_type=xzb.CONTENT_TYPE)
    assert len(redis_round_trips) == 1
    assert again.content == first.content and again["Content-Type"] == "application/json"
    data = again.json()["returnData"]
    assert data["totalcount"] == "25"
    expected = [f"u_{n}" for n in reversed(range(25))][(pageno - 1) * 10 : pageno * 10]
    assert [item["userid"] for item in data["pusherlist"]] == expected


def test_uncached_fetch_list_costs_the_same_few_queries_on_any_page(client, django_assert_num_queries, settings):
    for n in range(25):
        open_live(client, f"u_{n}")
    settings.ROOM_LIST_CACHE_TTL = 0
    for pageno in (1, 3):
        # the count, and the page's rooms with their owners and info, chosen by their ids from the list index
        with django_assert_num_queries(2):
            data = xzb.ok(client, xzb.fetch_list(pageno=pageno, pagesize=10))
        assert len(data["pusherlist"]) == (10 if pageno == 1 else 5)


def test_fetch_list_never_lists_a_room_that_left_or_misses_one_that_came(client, django_capture_on_commit_callbacks):
    rooms = [open_live(client, f"u_{n}") for n in range(3)]
    assert xzb.ok(client, xzb.fetch_list())["totalcount"] == "3"
    with django_capture_on_commit_callbacks(execute=True):
        services.close_room(rooms[1], reason=Room.CloseReason.OWNER, source=SRC.API)
    listed = xzb.ok(client, xzb.fetch_list())
    assert [item["userid"] for item in listed["pusherlist"]] == ["u_2", "u_0"]
    open_live(client, "u_9")
    assert xzb.ok(client, xzb.fetch_list())["pusherlist"][0]["userid"] == "u_9"


def test_cached_get_user_info_costs_no_query_and_one_round_trip_with_current_counts(
    client, django_assert_num_queries, redis_round_trips
):
    room = open_live(client, "u_1")
    xzb.ok(client, xzb.get_user_info("u_1"))
    assert counters.like(room.pk, 7) == 7
    redis_round_trips.clear()
    with django_assert_num_queries(0):
        info = xzb.ok(client, xzb.get_user_info("u_1"))
    assert len(redis_round_trips) == 1
    assert info["likecount"] == 7 and info["status"] == "1" and info["title"] == "show of u_1"
    assert type(info["likecount"]) is int and type(info["viewercount"]) is int


def test_get_user_info_follows_the_anchors_newest_room(client):
    open_live(client, "u_1")
    assert xzb.ok(client, xzb.get_user_info("u_1"))["status"] == "1"
    xzb.ok(client, xzb.request_lvb_addr("u_1", groupid="@TGS#second", title="second show"))
    info = xzb.ok(client, xzb.get_user_info("u_1"))
    assert (info["groupid"], info["title"], info["status"]) == ("@TGS#second", "second show", "0")
    xzb.ok(client, xzb.change_status("u_1", 0))
    assert xzb.ok(client, xzb.get_user_info("u_1"))["status"] == "1"


def test_unknown_anchor_is_not_cached_as_an_answer(client):
    xzb.error(client, xzb.get_user_info("u_nobody"), 2003)
    open_live(client, "u_nobody")
    assert xzb.ok(client, xzb.get_user_info("u_nobody"))["status"] == "1"


def test_change_count_on_a_known_anchor_costs_no_query_and_one_round_trip(
    client, django_assert_num_queries, redis_round_trips
):
    room = open_live(client, "u_1")
    xzb.ok(client, xzb.add_heart("u_1"))
    redis_round_trips.clear()
    with django_assert_num_queries(0):
        xzb.ok(client, xzb.add_heart("u_1"))
    assert len(redis_round_trips) == 1
    assert counters.with_pending([Room.objects.get(pk=room.pk)])[0].like_count == 2


def test_change_count_follows_the_anchor_to_a_new_room(client):
    first = open_live(client, "u_1")
    xzb.ok(client, xzb.add_heart("u_1"))
    xzb.ok(client, xzb.stop_lvb("u_1"))
    xzb.error(client, xzb.add_heart("u_1"), 2003)
    second = open_live(client, "u_1")
    xzb.ok(client, xzb.add_heart("u_1"))
    xzb.ok(client, xzb.add_heart("u_1"))
    counts = {
        room.pk: room.like_count
        for room in counters.with_pending(list(Room.objects.filter(pk__in=[first.pk, second.pk])))
    }
    assert counts == {first.pk: 1, second.pk: 2}
