import pytest

from rooms import services
from rooms.models import Room, RoomEvent

pytestmark = pytest.mark.django_db
S = Room.Status
URL = "/api/v1/rooms/"


def detail(room, suffix=""):
    return f"{URL}{room.pk}/{suffix}"


# --- create -----------------------------------------------------------------------------------


def test_create_room_returns_push_url(streamer_api, settings):
    r = streamer_api.post(
        URL, {"title": "My show", "cover_url": "https://img.example.com/c.jpg", "location": "Shenzhen"}, format="json"
    )
    assert r.status_code == 201
    body = r.json()
    assert body["status"] == "created" and body["play_urls"] is None
    assert body["push_url"].startswith(f"rtmp://{settings.TENCENT_LIVE_PUSH_DOMAIN}/live/{body['stream_id']}?txSecret=")
    assert body["push_url_expires_at"]
    assert body["owner"]["username"] == "streamer"


def test_create_requires_login(api):
    r = api.post(URL, {"title": "x"}, format="json")
    assert r.status_code == 401
    assert r.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 65}, "title"),
        ({}, "title"),
        ({"title": "ok", "cover_url": "not a url"}, "cover_url"),
        ({"title": "ok", "location": "y" * 65}, "location"),
    ],
)
def test_create_validation_errors_name_the_field(streamer_api, payload, field):
    r = streamer_api.post(URL, payload, format="json")
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "invalid"
    assert field in body["fields"]
    assert body["detail"].startswith(f"{field}:")
    assert not Room.objects.exists()


@pytest.mark.parametrize("extra", [{"titel": "Typo"}, {"status": "live"}])
def test_create_refuses_fields_it_does_not_take(streamer_api, extra):
    r = streamer_api.post(URL, {"title": "Evening show", **extra}, format="json")
    assert r.status_code == 400 and list(r.json()["fields"]) == list(extra)
    assert r.json()["detail"].startswith(f"{next(iter(extra))}: Unknown field")
    assert not Room.objects.exists()


def test_65_char_title_message(streamer_api):
    r = streamer_api.post(URL, {"title": "x" * 65}, format="json")
    assert r.json()["detail"] == "title: Ensure this field has no more than 64 characters."


def test_create_replaces_open_room(streamer_api, live_room):
    r = streamer_api.post(URL, {"title": "Second"}, format="json")
    assert r.status_code == 201
    live_room.refresh_from_db()
    assert live_room.status == S.CLOSED and live_room.close_reason == "replaced"


def test_retry_with_same_idempotency_key_returns_the_same_room(streamer_api, streamer):
    first = streamer_api.post(URL, {"title": "Show"}, format="json", HTTP_IDEMPOTENCY_KEY="4f1c-retry")
    again = streamer_api.post(URL, {"title": "Show"}, format="json", HTTP_IDEMPOTENCY_KEY="4f1c-retry")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["stream_id"] in again.json()["push_url"]
    room = Room.objects.get(owner=streamer)  # exactly one room, still open
    assert room.status == S.CREATED


def test_new_idempotency_key_opens_a_new_room(streamer_api, streamer):
    first = streamer_api.post(URL, {"title": "Show"}, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    second = streamer_api.post(URL, {"title": "Show"}, format="json", HTTP_IDEMPOTENCY_KEY="key-2")
    assert second.json()["id"] != first.json()["id"]
    assert Room.objects.get(pk=first.json()["id"]).close_reason == "replaced"


def test_idempotency_keys_are_per_owner(streamer_api, viewer_api):
    mine = streamer_api.post(URL, {"title": "A"}, format="json", HTTP_IDEMPOTENCY_KEY="same")
    theirs = viewer_api.post(URL, {"title": "B"}, format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert theirs.status_code == 201 and theirs.json()["id"] != mine.json()["id"]


@pytest.mark.parametrize("key", ["x" * 65, "has space", "ключ"])
def test_malformed_idempotency_key_is_400(streamer_api, key):
    r = streamer_api.post(URL, {"title": "Show"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert r.status_code == 400 and "Idempotency-Key" in r.json()["fields"]
    assert not Room.objects.exists()


# --- list -------------------------------------------------------------------------------------


def test_list_shows_only_live_rooms(api, make_room, make_user):
    live = make_room(make_user(), S.LIVE)
    for status in (S.CREATED, S.INTERRUPTED, S.CLOSED, S.BANNED):
        make_room(make_user(), status)
    r = api.get(URL)
    assert r.status_code == 200
    assert r.json()["count"] == 1
    assert [x["id"] for x in r.json()["results"]] == [live.pk]
    assert r.json()["results"][0]["play_urls"]["hls"].endswith(f"{live.stream_id}.m3u8")


def test_list_pagination_and_stable_order(api, make_room, make_user):
    rooms = [make_room(make_user(), S.LIVE) for _ in range(5)]
    Room.objects.update(started_at=rooms[0].started_at)  # all tie on started_at: id breaks the tie
    r1 = api.get(URL, {"page_size": 2})
    r3 = api.get(URL, {"page_size": 2, "page": 3})
    assert r1.json()["count"] == 5 and r1.json()["next"] and r1.json()["previous"] is None
    ids = [x["id"] for x in r1.json()["results"]] + [
        x["id"] for x in api.get(URL, {"page_size": 2, "page": 2}).json()["results"]
    ]
    ids += [x["id"] for x in r3.json()["results"]]
    assert ids == sorted((r.pk for r in rooms), reverse=True)
    assert r3.json()["next"] is None


@pytest.mark.parametrize(("ordering", "field"), [("-viewer_count", "viewer_count"), ("-like_count", "like_count")])
def test_list_ordering(api, make_room, make_user, ordering, field):
    rooms = [make_room(make_user(), S.LIVE) for _ in range(3)]
    for n, room in enumerate(rooms):
        Room.objects.filter(pk=room.pk).update(**{field: [5, 50, 1][n]})
    r = api.get(URL, {"ordering": ordering})
    assert [x[field] for x in r.json()["results"]] == [50, 5, 1]


def test_default_order_is_newest_started_first(api, make_room, make_user):
    opened_first = make_room(make_user())  # opened first, but goes live last: newest by start, not by id
    live = make_room(make_user(), S.LIVE)
    services.mark_live(opened_first, source=RoomEvent.Source.API)
    assert [x["id"] for x in api.get(URL).json()["results"]] == [opened_first.pk, live.pk]


def test_list_search_by_title_and_nickname(api, make_room, make_user):
    a = make_room(make_user(nickname="Cooking Carl"), S.LIVE, title="Dumplings")
    b = make_room(make_user(nickname="Gamer Gail"), S.LIVE, title="Speedrun")
    assert [x["id"] for x in api.get(URL, {"search": "dumpl"}).json()["results"]] == [a.pk]
    assert [x["id"] for x in api.get(URL, {"search": "gail"}).json()["results"]] == [b.pk]


def test_list_filter_by_owner(api, make_room, make_user):
    owner = make_user()
    mine = make_room(owner, S.LIVE)
    make_room(make_user(), S.LIVE)
    assert [x["id"] for x in api.get(URL, {"owner": owner.pk}).json()["results"]] == [mine.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_size": 0}, "page_size"),
        ({"page_size": 1000}, "page_size"),
        ({"page_size": "abc"}, "page_size"),
        ({"ordering": "title"}, "ordering"),
        ({"ordering": "-id"}, "ordering"),
        ({"page": 0}, "page"),
        ({"owner": "abc"}, "owner"),
        ({"order": "-viewer_count"}, "order"),
        ({"pagesize": 50}, "pagesize"),
    ],
)
def test_list_rejects_unknown_query_values(api, live_room, params, field):
    r = api.get(URL, params)
    assert r.status_code == 400
    assert field in r.json()["fields"] and r.json()["detail"].startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_size": 0}, "page_size"),
        ({"page": "abc"}, "page"),
        ({"ordering": "-like_count"}, "ordering"),  # mine is always newest first
        ({"search": "show"}, "search"),
    ],
)
def test_mine_rejects_unknown_query_values(streamer_api, live_room, params, field):
    r = streamer_api.get(URL + "mine/", params)
    assert r.status_code == 400 and r.json()["code"] == "invalid"
    assert field in r.json()["fields"]


def test_list_takes_drf_format_and_every_documented_parameter(api, live_room):
    params = {"format": "json", "page": 1, "page_size": 5, "ordering": "-like_count", "search": "", "owner": 1}
    assert api.get(URL, params).status_code == 200


def test_page_past_the_end_is_404(api, live_room):
    r = api.get(URL, {"page": 5})
    assert r.status_code == 404 and r.json()["code"] == "not_found"


# --- mine -------------------------------------------------------------------------------------


def test_mine_lists_callers_rooms_of_any_status_newest_first(streamer_api, streamer, make_room, make_user):
    old = make_room(streamer, S.CLOSED)
    new = make_room(streamer, S.CREATED)
    make_room(make_user(), S.LIVE)
    r = streamer_api.get(URL + "mine/")
    assert [x["id"] for x in r.json()["results"]] == [new.pk, old.pk]


def test_mine_requires_login(api):
    assert api.get(URL + "mine/").status_code == 401


# --- retrieve / visibility --------------------------------------------------------------------


def test_anyone_sees_a_live_room(api, live_room):
    r = api.get(detail(live_room))
    assert r.status_code == 200 and r.json()["status"] == "live"
    assert "push_url" not in r.json()


@pytest.mark.parametrize("status", [S.CREATED, S.INTERRUPTED, S.CLOSED, S.BANNED])
def test_non_live_room_is_hidden_from_others(api, viewer_api, streamer_api, make_room, streamer, status):
    room = make_room(streamer, status)
    assert api.get(detail(room)).status_code == 404
    assert viewer_api.get(detail(room)).status_code == 404
    assert streamer_api.get(detail(room)).status_code == 200


def test_staff_see_any_room(client_for, make_user, make_room, streamer):
    room = make_room(streamer, S.CLOSED)
    assert client_for(make_user(is_staff=True)).get(detail(room)).status_code == 200


def test_unknown_room_is_404_json(api):
    r = api.get(f"{URL}999999/")
    assert r.status_code == 404 and r.json() == {"code": "not_found", "detail": "No Room matches the given query."}


# --- patch ------------------------------------------------------------------------------------


def test_owner_patches_title(streamer_api, live_room):
    r = streamer_api.patch(detail(live_room), {"title": "New title"}, format="json")
    assert r.status_code == 200 and r.json()["title"] == "New title"
    live_room.refresh_from_db()
    assert live_room.title == "New title" and live_room.status == S.LIVE


def test_patch_validation(streamer_api, live_room):
    r = streamer_api.patch(detail(live_room), {"title": ""}, format="json")
    assert r.status_code == 400 and "title" in r.json()["fields"]
    live_room.refresh_from_db()
    assert live_room.title == "Evening show"


def test_patch_refuses_fields_it_does_not_take(streamer_api, live_room):
    r = streamer_api.patch(detail(live_room), {"title": "New", "status": "closed"}, format="json")
    assert r.status_code == 400 and list(r.json()["fields"]) == ["status"]
    live_room.refresh_from_db()
    assert (live_room.status, live_room.title) == (S.LIVE, "Evening show")


def test_other_user_cannot_patch_live_room(viewer_api, live_room):
    r = viewer_api.patch(detail(live_room), {"title": "Hacked"}, format="json")
    assert r.status_code == 403 and r.json()["code"] == "not_owner"
    live_room.refresh_from_db()
    assert live_room.title == "Evening show"


def test_other_user_cannot_see_or_patch_created_room(viewer_api, make_room, streamer):
    room = make_room(streamer)
    assert viewer_api.patch(detail(room), {"title": "Hacked"}, format="json").status_code == 404


def test_patch_closed_room_is_409(streamer_api, make_room, streamer):
    room = make_room(streamer, S.CLOSED)
    r = streamer_api.patch(detail(room), {"title": "Again"}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "room_closed"


# --- live -------------------------------------------------------------------------------------


@pytest.mark.parametrize("start", [S.CREATED, S.INTERRUPTED])
def test_report_live(streamer_api, make_room, streamer, start):
    room = make_room(streamer, start)
    r = streamer_api.post(detail(room, "live/"))
    assert r.status_code == 200 and r.json()["status"] == "live" and r.json()["play_urls"]


def test_report_live_is_idempotent(streamer_api, live_room):
    assert streamer_api.post(detail(live_room, "live/")).status_code == 200
    assert RoomEvent.objects.filter(room=live_room, new_status=S.LIVE).count() == 1


@pytest.mark.parametrize(("start", "code"), [(S.CLOSED, "room_closed"), (S.BANNED, "room_banned")])
def test_report_live_on_terminal_room_is_409(streamer_api, make_room, streamer, start, code):
    room = make_room(streamer, start)
    r = streamer_api.post(detail(room, "live/"))
    assert r.status_code == 409 and r.json()["code"] == code


def test_other_user_cannot_report_live(viewer_api, live_room):
    assert viewer_api.post(detail(live_room, "live/")).status_code == 403


# --- close ------------------------------------------------------------------------------------


def test_owner_closes_room(streamer_api, live_room, api):
    assert streamer_api.delete(detail(live_room)).status_code == 204
    live_room.refresh_from_db()
    assert live_room.status == S.CLOSED and live_room.close_reason == "owner"
    assert api.get(URL).json()["count"] == 0


def test_close_is_idempotent(streamer_api, live_room):
    assert streamer_api.delete(detail(live_room)).status_code == 204
    assert streamer_api.delete(detail(live_room)).status_code == 204
    assert RoomEvent.objects.filter(room=live_room, new_status=S.CLOSED).count() == 1


def test_other_user_cannot_close(viewer_api, live_room, api):
    assert viewer_api.delete(detail(live_room)).status_code == 403
    live_room.refresh_from_db()
    assert live_room.status == S.LIVE


def test_anonymous_cannot_close(api, live_room):
    assert api.delete(detail(live_room)).status_code == 401


# --- push-url ---------------------------------------------------------------------------------


def test_fresh_push_url_for_open_room(streamer_api, make_room, streamer):
    room = make_room(streamer)
    r = streamer_api.post(detail(room, "push-url/"))
    assert r.status_code == 200 and room.stream_id in r.json()["push_url"]


def test_push_url_refused_for_closed_room(streamer_api, make_room, streamer):
    room = make_room(streamer, S.CLOSED)
    assert streamer_api.post(detail(room, "push-url/")).status_code == 409


def test_push_url_refused_to_others(viewer_api, live_room):
    assert viewer_api.post(detail(live_room, "push-url/")).status_code == 403


# --- join / like ------------------------------------------------------------------------------


def test_join_counts_a_viewer(api, live_room):
    assert api.post(detail(live_room, "join/")).json()["viewer_count"] == 1
    r = api.post(detail(live_room, "join/"))
    assert r.status_code == 202 and r.json()["viewer_count"] == 2
    assert api.get(detail(live_room)).json()["viewer_count"] == 2


def test_like_with_count(api, live_room):
    assert api.post(detail(live_room, "like/"), {"count": 5}, format="json").json() == {"like_count": 5}
    assert api.post(detail(live_room, "like/")).json() == {"like_count": 6}


@pytest.mark.parametrize("count", [0, 51, "many", -1])
def test_like_count_out_of_range(api, live_room, count):
    r = api.post(detail(live_room, "like/"), {"count": count}, format="json")
    assert r.status_code == 400 and "count" in r.json()["fields"]
    live_room.refresh_from_db()
    assert live_room.like_count == 0


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (S.CREATED, "room_not_live"),
        (S.INTERRUPTED, "room_not_live"),
        (S.CLOSED, "room_closed"),
        (S.BANNED, "room_banned"),
    ],
)
def test_join_and_like_on_non_live_room_is_409(api, make_room, streamer, status, code):
    room = make_room(streamer, status)
    for action in ("join/", "like/"):
        r = api.post(detail(room, action))
        assert r.status_code == 409 and r.json()["code"] == code


def test_join_or_like_unknown_room_is_404(api):
    assert api.post(f"{URL}999999/join/").status_code == 404
    assert api.post(f"{URL}999999/like/").status_code == 404


# --- docs and health --------------------------------------------------------------------------


def test_openapi_schema_and_docs(api):
    schema = api.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/rooms/{id}/like/" in schema.content
    docs = api.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def test_openapi_schema_has_no_name_clashes():
    """Two components of one name make a wrong schema (the token request and its answer once did)."""
    import io

    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", stdout=io.StringIO(), stderr=io.StringIO())


def test_healthz_ok(api):
    r = api.get("/healthz")
    assert r.status_code == 200
    assert r.json()["checks"]["database"] == "ok"
