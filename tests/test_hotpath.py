"""The hot path (`api.hotpath`): anonymous list, room, counter and Xiaozhibo requests skip the
session / CSRF / auth / messages middleware, and get exactly the answers the whole stack gives."""

import json

import pytest
from django.conf import settings as django_settings
from django.test import Client, override_settings

from rooms.models import Room

from . import xiaozhibo_client as xzb

pytestmark = pytest.mark.django_db
HOT = "api.hotpath.HotPathMiddleware"
VOLATILE = {"Date"}


@pytest.fixture
def whole_stack():
    """A client whose requests all go down the whole middleware stack (its handler's middleware
    loaded without the hot path; other clients keep it)."""
    client = Client()
    with override_settings(MIDDLEWARE=[name for name in django_settings.MIDDLEWARE if name != HOT]):
        client.handler.load_middleware()
    return client


def headers(response):
    return {name: value for name, value in response.headers.items() if name not in VOLATILE}


def took_hot_path(response):
    return not hasattr(response.wsgi_request, "session")


def test_the_hot_path_is_on_by_default():
    assert HOT in django_settings.MIDDLEWARE
    assert django_settings.MIDDLEWARE.index(HOT) < django_settings.MIDDLEWARE.index(
        "django.contrib.sessions.middleware.SessionMiddleware"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/rooms/",
        "/api/v1/rooms/?ordering=-viewer_count&page_size=5",
        "/api/v1/rooms/?page=2&page_size=1",
        "/api/v1/rooms/?page_size=0",  # 400
        "/api/v1/rooms/?cursor=forged",  # 400
        "/api/v1/rooms/{live}/",
        "/api/v1/rooms/{created}/",  # 404: not visible
        "/api/v1/rooms/999999999/",  # 404
    ],
)
def test_reads_answer_as_the_whole_stack_does(path, live_room, make_room, streamer, whole_stack):
    path = path.format(live=live_room.pk, created=make_room(streamer).pk)
    hot = Client().get(path)
    assert took_hot_path(hot)
    full = whole_stack.get(path)
    assert not took_hot_path(full)
    assert (hot.status_code, headers(hot), hot.content) == (full.status_code, headers(full), full.content)
    assert hot["X-Frame-Options"] == "DENY" and "Content-Length" in hot


def test_a_304_answers_as_the_whole_stack_does(live_room, whole_stack, list_cache):
    etag = Client().get("/api/v1/rooms/")["ETag"]
    hot = Client().get("/api/v1/rooms/", HTTP_IF_NONE_MATCH=etag)
    full = whole_stack.get("/api/v1/rooms/", HTTP_IF_NONE_MATCH=etag)
    assert took_hot_path(hot) and hot.status_code == 304 and hot.content == b""
    assert (hot.status_code, headers(hot)) == (full.status_code, headers(full))


@pytest.mark.parametrize(
    ("action", "body", "status"),
    [
        ("like", {"count": 3}, 202),
        ("like", {"count": 0}, 400),
        ("like", "[[[", 400),
        ("join", {}, 202),
        ("heartbeat", {"viewer_token": "forged"}, 400),
        ("leave", {}, 400),
    ],
)
def test_counter_changes_answer_as_the_whole_stack_does(action, body, status, live_room, whole_stack):
    path = f"/api/v1/rooms/{live_room.pk}/{action}/"
    data = body if isinstance(body, str) else json.dumps(body)
    hot = Client().post(path, data, content_type="application/json")
    full = whole_stack.post(path, data, content_type="application/json")
    assert took_hot_path(hot) and not took_hot_path(full)
    assert hot.status_code == full.status_code == status
    assert headers(hot).keys() == headers(full).keys()
    assert json.loads(hot.content).keys() == json.loads(full.content).keys()


def test_a_heartbeat_and_leave_with_a_join_token_take_the_hot_path(live_room):
    client = Client()
    token = client.post(f"/api/v1/rooms/{live_room.pk}/join/", {}, content_type="application/json").json()
    for action in ("heartbeat", "leave"):
        response = client.post(
            f"/api/v1/rooms/{live_room.pk}/{action}/",
            {"viewer_token": token["viewer_token"]},
            content_type="application/json",
        )
        assert took_hot_path(response) and response.status_code == 202


def test_a_change_on_a_room_that_is_not_live_is_409_on_both(make_room, streamer, whole_stack):
    room = make_room(streamer, status=Room.Status.CREATED)
    hot = Client().post(f"/api/v1/rooms/{room.pk}/like/", {}, content_type="application/json")
    full = whole_stack.post(f"/api/v1/rooms/{room.pk}/like/", {}, content_type="application/json")
    assert (hot.status_code, hot.json()) == (full.status_code, full.json()) == (409, full.json())


def test_requests_with_credentials_go_down_the_whole_stack(live_room, viewer_api, viewer, client_for):
    token_answer = viewer_api.post(f"/api/v1/rooms/{live_room.pk}/like/", {}, format="json")
    assert token_answer.status_code == 202 and not took_hot_path(token_answer)
    session = Client()
    session.force_login(viewer)
    # a session without its CSRF token is refused, as CsrfViewMiddleware and DRF require
    csrf = Client(enforce_csrf_checks=True)
    csrf.force_login(viewer)
    refused = csrf.post(f"/api/v1/rooms/{live_room.pk}/like/", {}, content_type="application/json")
    assert refused.status_code == 403 and not took_hot_path(refused)
    assert not took_hot_path(session.get("/api/v1/rooms/"))


def test_other_paths_and_methods_go_down_the_whole_stack(live_room):
    client = Client()
    assert not took_hot_path(client.get("/api/v1/rooms/mine/"))
    assert not took_hot_path(client.delete(f"/api/v1/rooms/{live_room.pk}/"))
    assert not took_hot_path(client.get(f"/api/v1/rooms/{live_room.pk}/like/"))
    assert not took_hot_path(client.get("/"))


def test_xiaozhibo_requests_answer_as_the_whole_stack_does(settings, whole_stack):
    settings.XIAOZHIBO_COMPAT = True
    for body in (xzb.fetch_list(1, 20), {"Action": "NoSuchAction"}, {"Action": "FetchList", "data": {}}):
        hot = Client().post("/interface.php", json.dumps(body), content_type="application/json")
        full = whole_stack.post("/interface.php", json.dumps(body), content_type="application/json")
        assert took_hot_path(hot) and not took_hot_path(full)
        assert (hot.status_code, headers(hot), hot.content) == (full.status_code, headers(full), full.content)


def test_hot_path_off_takes_it_out_of_the_middleware(monkeypatch):
    from .test_settings import load_settings

    assert HOT in load_settings(monkeypatch)["MIDDLEWARE"]
    assert HOT not in load_settings(monkeypatch, HOT_PATH="off")["MIDDLEWARE"]
