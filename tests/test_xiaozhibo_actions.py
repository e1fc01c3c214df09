"""The v1 Actions, replayed as the Android client sends them, checked as the client reads them."""

import hashlib
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from rooms import counters
from rooms.models import Room, RoomEvent
from rooms.throttling import CounterThrottle

from . import xiaozhibo_client as xzb

pytestmark = pytest.mark.django_db
S = Room.Status
NOT_FOUND = "db operator error | "
ROOM_FIELDS = {"userid", "groupid", "timestamp", "type", "viewercount", "likecount", "title", "playurl"}
ROOM_FIELDS |= {"hls_play_url", "fileid", "status", "userinfo"}


@pytest.fixture(autouse=True)
def compat_on(settings):
    settings.XIAOZHIBO_COMPAT = True


@pytest.fixture(params=["redis", "embedded"])
def counter_mode(request, settings, redis_namespace):
    """Counters in Redis (REDIS_URL) or in the database (the embedded default of `make run`)."""
    if request.param == "embedded":
        settings.REDIS_URL = None
        locmem = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": redis_namespace}
        settings.CACHES = {"default": locmem}
    elif not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    return request.param


def room_of(userid):
    return Room.objects.filter(owner__xiaozhibo_account__userid=userid).latest("created_at")


def open_live_room(client, userid="u_1001", **kwargs):
    xzb.ok(client, xzb.request_lvb_addr(userid, groupid=f"@TGS#{userid}", **kwargs))
    xzb.ok(client, xzb.change_status(userid, 0))
    return room_of(userid)


def listed(client, **kwargs):
    return xzb.ok(client, xzb.fetch_list(**kwargs))


def check_item_types(item):
    """What TCLiveInfo (Gson) and the list screen read, with the original's JSON types."""
    assert set(item) >= ROOM_FIELDS
    for key in ("userid", "groupid", "title", "playurl", "hls_play_url", "fileid", "status"):
        assert type(item[key]) is str, key
    for key in ("timestamp", "type", "viewercount", "likecount"):
        assert type(item[key]) is int, key
    assert set(item["userinfo"]) >= {"nickname", "headpic", "frontcover", "location"}
    assert all(type(v) is str for v in item["userinfo"].values())


# --- RequestLVBAddr ----------------------------------------------------------------------------


def test_request_lvb_addr_returns_a_signed_push_url(client, settings):
    before = int(time.time())
    data = xzb.ok(client, xzb.request_lvb_addr())
    assert set(data) == {"pushurl", "timestamp"}
    assert type(data["pushurl"]) is str and type(data["timestamp"]) is int
    assert before <= data["timestamp"] <= time.time()
    room = room_of("u_1001")
    url = urlsplit(data["pushurl"])
    assert (url.scheme, url.netloc, url.path) == ("rtmp", settings.TENCENT_LIVE_PUSH_DOMAIN, f"/live/{room.stream_id}")
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert int(query["txTime"], 16) > time.time()
    expected = hashlib.md5(f"{settings.TENCENT_LIVE_PUSH_KEY}{room.stream_id}{query['txTime']}".encode()).hexdigest()
    assert query["txSecret"] == expected


def test_request_lvb_addr_opens_a_room_not_yet_listed(client):
    xzb.ok(client, xzb.request_lvb_addr(title="Evening show"))
    room = room_of("u_1001")
    assert (room.status, room.title, room.location) == (S.CREATED, "Evening show", "深圳")
    assert room.cover_url == "http://img.example.com/c.jpg"
    assert room.xiaozhibo.groupid == "@TGS#aHOST1001"
    assert listed(client) == {"totalcount": "0", "pusherlist": []}


def test_userid_maps_to_one_user_created_on_first_use(client, django_user_model):
    xzb.ok(client, xzb.request_lvb_addr(nickname="Nick", headpic="http://img.example.com/1.jpg"))
    xzb.ok(client, xzb.request_lvb_addr(nickname="Nick II", headpic="http://img.example.com/2.jpg"))
    user = django_user_model.objects.get()
    assert (user.username, user.nickname, user.avatar_url) == ("xzb:u_1001", "Nick II", "http://img.example.com/2.jpg")
    assert not user.has_usable_password()


def test_a_new_request_replaces_the_anchors_open_room(client):
    first = open_live_room(client)
    xzb.ok(client, xzb.request_lvb_addr())
    first.refresh_from_db()
    assert (first.status, first.close_reason) == (S.CLOSED, Room.CloseReason.REPLACED)
    assert Room.objects.filter(status__in=Room.OPEN_STATUSES).count() == 1
    assert listed(client)["totalcount"] == "0"


@pytest.mark.parametrize("userinfo", [None, {}, [], "junk"])
def test_userinfo_may_be_missing_or_empty(client, userinfo):
    body = {**xzb.request_lvb_addr(), "userinfo": userinfo}
    xzb.ok(client, body)
    room = room_of("u_1001")
    assert (room.cover_url, room.location, room.owner.nickname) == ("", "", "")


def test_userinfo_keys_left_out_for_null_values_are_fine(client):
    # org.json drops a key whose value is null: a user without a cover sends no "frontcover"
    body = xzb.request_lvb_addr()
    del body["userinfo"]["frontcover"], body["userinfo"]["headpic"]
    xzb.ok(client, body)
    assert room_of("u_1001").cover_url == ""


def test_unusable_profile_values_never_refuse_a_stream(client):
    body = xzb.request_lvb_addr(headpic="javascript:alert(1)", frontcover="not a url", location="L" * 100, nickname=7)
    xzb.ok(client, body)
    room = room_of("u_1001")
    assert (room.cover_url, room.location, room.owner.avatar_url) == ("", "L" * 64, "")
    assert room.owner.nickname == "7"


# --- ChangeStatus / StopLVB --------------------------------------------------------------------


@pytest.mark.parametrize("send", [lambda b: b, xzb.as_text], ids=["ints", "ints-as-text"])
def test_change_status_online_then_offline(client, send):
    xzb.ok(client, xzb.request_lvb_addr())
    assert xzb.ok(client, send(xzb.change_status(status=0))) == {"result": 0}
    room = room_of("u_1001")
    assert room.status == S.LIVE
    assert listed(client)["totalcount"] == "1"
    assert xzb.ok(client, send(xzb.change_status(status=1))) == {"result": 0}
    room.refresh_from_db()
    assert (room.status, room.close_reason) == (S.CLOSED, Room.CloseReason.OWNER)
    assert listed(client) == {"totalcount": "0", "pusherlist": []}
    events = RoomEvent.objects.filter(room=room).values_list("old_status", "new_status", "source", "actor")
    assert list(events) == [
        (S.CREATED, S.LIVE, "xiaozhibo", room.owner_id),
        (S.LIVE, S.CLOSED, "xiaozhibo", room.owner_id),
    ]


def test_online_is_idempotent_and_heals_an_interrupted_room(client):
    room = open_live_room(client)
    xzb.ok(client, xzb.change_status(status=0))
    from rooms import services

    services.mark_interrupted(room, source=RoomEvent.Source.CALLBACK)
    xzb.ok(client, xzb.change_status(status=0))
    room.refresh_from_db()
    assert room.status == S.LIVE


def test_offline_twice_is_fine(client):
    open_live_room(client)
    xzb.ok(client, xzb.change_status(status=1))
    xzb.ok(client, xzb.change_status(status=1))
    xzb.ok(client, xzb.stop_lvb())


def test_online_without_an_open_room_is_2003(client):
    open_live_room(client)
    xzb.ok(client, xzb.stop_lvb())
    xzb.error(client, xzb.change_status(status=0), 2003)
    assert room_of("u_1001").status == S.CLOSED


@pytest.mark.parametrize(
    "body", [xzb.change_status("nobody", 0), xzb.change_status("nobody", 1), xzb.stop_lvb("nobody")]
)
def test_unknown_userid_is_2003_and_creates_nothing(client, body, django_user_model):
    envelope = xzb.error(client, body, 2003)
    assert envelope["returnMsg"] == f"{NOT_FOUND}unknown userid:nobody"
    assert not django_user_model.objects.exists()


def test_stop_lvb_closes_the_room(client):
    room = open_live_room(client)
    assert xzb.ok(client, xzb.stop_lvb()) == {"result": 0}
    room.refresh_from_db()
    assert room.status == S.CLOSED
    assert listed(client)["pusherlist"] == []


def test_rest_users_cannot_be_driven_through_the_protocol(client, live_room):
    # the REST streamer "streamer" is not the Xiaozhibo userid "streamer"
    xzb.error(client, xzb.stop_lvb("streamer"), 2003)
    live_room.refresh_from_db()
    assert live_room.status == S.LIVE


# --- FetchList ---------------------------------------------------------------------------------


@pytest.mark.parametrize("send", [lambda b: b, xzb.as_text], ids=["ints", "ints-as-text"])
def test_fetch_list_items_carry_the_original_fields_and_types(client, settings, send):
    room = open_live_room(client, title="hello", nickname="Nick", location="深圳")
    data = xzb.ok(client, send(xzb.fetch_list()))
    assert data["totalcount"] == "1"
    [item] = data["pusherlist"]
    check_item_types(item)
    base = f"http://{settings.TENCENT_LIVE_PLAY_DOMAIN}/live/{room.stream_id}"
    assert item == {
        "userid": "u_1001",
        "groupid": "@TGS#u_1001",
        "timestamp": int(room.created_at.timestamp()),
        "type": 0,
        "viewercount": 0,
        "likecount": 0,
        "title": "hello",
        "playurl": f"{base}.flv",
        "hls_play_url": f"{base}.m3u8",
        "desc": "",
        "forbid_status": 0,
        "status": "1",
        "fileid": "",
        "userinfo": {
            "nickname": "Nick",
            "headpic": "http://img.example.com/a.jpg",
            "frontcover": "http://img.example.com/c.jpg",
            "location": "深圳",
        },
    }


def test_play_urls_are_signed_when_a_play_key_is_set(client, settings):
    settings.TENCENT_LIVE_PLAY_KEY = "play-key"
    open_live_room(client)
    [item] = listed(client)["pusherlist"]
    assert "txSecret=" in item["playurl"] and "txSecret=" in item["hls_play_url"]


def test_fetch_list_shows_only_live_rooms_of_the_protocol(client, make_room, streamer):
    make_room(streamer, S.LIVE)  # opened through the REST API: no IM group for the app to join
    open_live_room(client, "u_live")
    xzb.ok(client, xzb.request_lvb_addr("u_created", groupid="g"))
    open_live_room(client, "u_closed")
    xzb.ok(client, xzb.stop_lvb("u_closed"))
    data = listed(client)
    assert data["totalcount"] == "1"
    assert [item["userid"] for item in data["pusherlist"]] == ["u_live"]


def test_fetch_list_pages_newest_first_with_the_original_page_size_rules(client):
    for n in range(25):
        open_live_room(client, f"u_{n:02}")
    newest_first = [f"u_{n:02}" for n in reversed(range(25))]

    def userids(**kwargs):
        return [item["userid"] for item in listed(client, **kwargs)["pusherlist"]]

    assert userids(pageno=1, pagesize=20) == newest_first[:20]
    assert userids(pageno=2, pagesize=20) == newest_first[20:]
    assert userids(pageno=3, pagesize=20) == []
    assert userids(pageno=0, pagesize=20) == newest_first[:20]  # pageno below 1 means 1
    assert userids(pageno=1, pagesize=9) == newest_first[:10]  # outside 10-100 means 10
    assert userids(pageno=1, pagesize=101) == newest_first[:10]
    assert userids(pageno=1, pagesize=0) == newest_first[:10]
    assert userids(pageno=2, pagesize=10) == newest_first[10:20]
    assert userids(pageno=10**12, pagesize=100) == []
    assert listed(client, pageno=3, pagesize=20)["totalcount"] == "25"


def test_fetch_list_costs_two_queries_whatever_the_page(client, django_assert_num_queries):
    for n in range(12):
        open_live_room(client, f"u_{n:02}")
    with django_assert_num_queries(2):  # the count, and the page with owners, userids and groups
        assert len(listed(client, pagesize=100)["pusherlist"]) == 12


def test_fetch_list_until_the_client_stops(client):
    """TCLiveListMgr asks pageno+1 while list.size() < totalcount and pageNo*20 < totalcount."""
    for n in range(23):
        open_live_room(client, f"u_{n:02}")
    seen, pageno = [], 1
    while True:
        data = listed(client, pageno=pageno, pagesize=20)
        seen += data["pusherlist"]
        total = int(data["totalcount"])
        if not data["pusherlist"] or len(seen) >= total or pageno * 20 >= total:
            break
        pageno += 1
    assert (pageno, len({item["userid"] for item in seen})) == (2, 23)


def test_flag_3_lists_live_rooms_with_an_int_totalcount(client):
    open_live_room(client)
    data = listed(client, flag=3)
    assert data["totalcount"] == 1 and type(data["totalcount"]) is int
    assert [item["userid"] for item in data["pusherlist"]] == ["u_1001"]


@pytest.mark.parametrize("flag", [2, 5])
def test_replay_lists_are_empty(client, flag):
    open_live_room(client)
    assert listed(client, flag=flag) == {"totalcount": "0", "pusherlist": []}


# --- ChangeCount -------------------------------------------------------------------------------


@pytest.mark.parametrize("send", [lambda b: b, xzb.as_text], ids=["ints", "ints-as-text"])
def test_likes_count_up_and_down_but_never_below_zero(client, send):
    open_live_room(client)
    for _ in range(3):
        assert xzb.ok(client, send(xzb.add_heart())) == {"result": 0}
    assert listed(client)["pusherlist"][0]["likecount"] == 3
    for _ in range(5):
        assert xzb.ok(client, send(xzb.add_heart(optype=1))) == {"result": 0}
    assert listed(client)["pusherlist"][0]["likecount"] == 0
    xzb.ok(client, send(xzb.add_heart()))
    assert listed(client)["pusherlist"][0]["likecount"] == 1


def test_list_counts_include_likes_not_yet_flushed(client, counter_mode):
    room = open_live_room(client)
    for _ in range(3):
        xzb.ok(client, xzb.add_heart())
    xzb.ok(client, xzb.enter_group())
    [item] = listed(client)["pusherlist"]
    assert (item["likecount"], item["viewercount"]) == (3, 1)
    assert xzb.ok(client, xzb.get_user_info())["likecount"] == 3
    counters.flush()
    room.refresh_from_db()
    assert (room.like_count, room.viewer_count) == (3, 1)


def test_counter_changes_share_the_rest_apis_per_address_throttle(client, api, counter_mode, monkeypatch):
    monkeypatch.setattr(CounterThrottle, "THROTTLE_RATES", {"counter": "3/min"})
    room = open_live_room(client)
    xzb.ok(client, xzb.enter_group())
    xzb.ok(client, xzb.add_heart())
    assert api.post(f"/api/v1/rooms/{room.pk}/like/").status_code == 202
    xzb.error(client, xzb.add_heart(), 4003, "frequency control")
    xzb.error(client, xzb.enter_group(), 4003, "frequency control")
    xzb.ok(client, xzb.add_heart(), REMOTE_ADDR="10.0.0.9")
    assert listed(client)["pusherlist"][0]["likecount"] == 3


def test_change_count_type_0_is_checked_but_viewers_are_who_enter_and_quit(client):
    open_live_room(client)
    body = {**xzb.add_heart(), "type": 0}
    xzb.ok(client, body)
    xzb.ok(client, {**body, "optype": 1})
    xzb.error(client, {**body, "userid": "nobody"}, 2003)
    xzb.ok(client, xzb.enter_group())
    xzb.ok(client, {**body, "optype": 1})
    [item] = listed(client)["pusherlist"]
    assert (item["viewercount"], item["likecount"]) == (1, 0)


def test_like_without_fileid_key_is_fine_for_live(client):
    open_live_room(client)
    body = xzb.add_heart()
    del body["fileid"]
    xzb.ok(client, body)


def test_likes_on_unknown_or_not_live_anchor_are_2003(client):
    xzb.error(client, xzb.add_heart("nobody"), 2003, f"{NOT_FOUND}no live room of userid:nobody")
    xzb.ok(client, xzb.request_lvb_addr())  # created, not live yet
    xzb.error(client, xzb.add_heart(), 2003)
    assert room_of("u_1001").like_count == 0


def test_likes_on_a_replay_are_2003(client):
    open_live_room(client)
    body = {**xzb.add_heart(), "flag": 1, "fileid": "9031868222958931071"}
    xzb.error(client, body, 2003)


def test_likes_reach_the_rest_api_too(client, api):
    room = open_live_room(client)
    xzb.ok(client, xzb.add_heart())
    assert api.get(f"/api/v1/rooms/{room.pk}/").json()["like_count"] == 1


# --- EnterGroup / QuitGroup --------------------------------------------------------------------


@pytest.mark.parametrize("send", [lambda b: b, xzb.as_text], ids=["ints", "ints-as-text"])
def test_viewers_enter_and_quit(client, send):
    open_live_room(client)
    assert xzb.ok(client, send(xzb.enter_group(userid="v_1"))) == {"result": 0}
    assert xzb.ok(client, send(xzb.enter_group(userid="v_2"))) == {"result": 0}
    assert listed(client)["pusherlist"][0]["viewercount"] == 2
    assert xzb.ok(client, send(xzb.quit_group(userid="v_1"))) == {"result": 0}
    assert listed(client)["pusherlist"][0]["viewercount"] == 1
    for _ in range(3):
        xzb.ok(client, send(xzb.quit_group(userid="v_2")))
    assert listed(client)["pusherlist"][0]["viewercount"] == 0


def test_enter_group_creates_the_viewer_with_nickname_and_headpic(client, django_user_model):
    open_live_room(client)
    xzb.ok(client, xzb.enter_group(userid="v_2001", nickname="Vic", headpic="http://img.example.com/v.jpg"))
    viewer = django_user_model.objects.get(xiaozhibo_account__userid="v_2001")
    assert (viewer.nickname, viewer.avatar_url) == ("Vic", "http://img.example.com/v.jpg")
    body = xzb.enter_group(userid="v_2001")
    del body["nickname"], body["headpic"]  # null values: org.json leaves the keys out
    xzb.ok(client, body)
    viewer.refresh_from_db()
    assert viewer.nickname == "Vic"


def test_entering_a_room_that_is_not_live_is_2003(client):
    xzb.error(client, xzb.enter_group(liveuserid="nobody"), 2003)
    open_live_room(client)
    xzb.ok(client, xzb.stop_lvb())
    xzb.error(client, xzb.enter_group(), 2003, f"{NOT_FOUND}no live room of userid:u_1001")
    xzb.error(client, xzb.quit_group(), 2003)


def test_entering_a_replay_is_2003(client):
    open_live_room(client)
    xzb.error(client, xzb.enter_group(groupid="9031868222958931071", flag=1), 2003)
    assert listed(client)["pusherlist"][0]["viewercount"] == 0


# --- GetUserInfo -------------------------------------------------------------------------------


@pytest.mark.parametrize("send", [lambda b: b, xzb.as_text], ids=["ints", "ints-as-text"])
def test_get_user_info_of_a_live_anchor(client, send):
    room = open_live_room(client, desc="about me")
    xzb.ok(client, xzb.add_heart())
    data = xzb.ok(client, send(xzb.get_user_info()))
    check_item_types(data)
    assert "forbid_status" not in data and "desc" not in data
    assert data["userinfo"]["desc"] == "about me"
    assert (data["status"], data["likecount"], data["groupid"]) == ("1", 1, "@TGS#u_1001")
    assert data["playurl"].endswith(f"/live/{room.stream_id}.flv")


def test_get_user_info_after_the_show_has_no_play_urls(client):
    open_live_room(client)
    xzb.ok(client, xzb.stop_lvb())
    data = xzb.ok(client, xzb.get_user_info())
    check_item_types(data)
    assert (data["status"], data["playurl"], data["hls_play_url"]) == ("0", "", "")


def test_get_user_info_of_unknown_anchor_or_replay_is_2003(client):
    xzb.error(client, xzb.get_user_info("nobody"), 2003, f"{NOT_FOUND}no room of userid:nobody")
    open_live_room(client)
    xzb.error(client, xzb.get_user_info(type=1, fileid="9031868222958931071"), 2003)
