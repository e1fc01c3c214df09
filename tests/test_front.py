"""The WSGI front (`api.front`): a cached list page or live room goes out without Django's handler,
with exactly the answer Django gives; everything else is Django's."""

import io
import socket
import sys

import pytest
import redis
from django.conf import settings as django_settings
from django.core import signals
from django.db import close_old_connections
from django.test import override_settings

from api.hotpath import HOT_PATH as HOT
from infra import redis as infra_redis
from liveroom.wsgi import application as front
from liveroom.wsgi import django_application
from rooms import listcache
from rooms.models import Room
from rooms.views import RoomViewSet

from .test_metrics import scrape, value

pytestmark = pytest.mark.django_db
CACHED = [
    "/api/v1/rooms/",
    "/api/v1/rooms/?ordering=-viewer_count&page_size=5",
    "/api/v1/rooms/?page=2&page_size=1",
    "/api/v1/rooms/{live}/",
]


@pytest.fixture
def wsgi(list_cache):
    """`wsgi(app, path, **headers)` → (status, headers without Date, body), and `wsgi.django`:
    how many requests Django's handler saw (request_started). As Django's test client does, the
    test's database connection is kept open across the requests."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    seen = []

    def started(**kwargs):
        seen.append(kwargs["environ"]["PATH_INFO"])

    signals.request_started.connect(started)

    def call(app, path, method="GET", **headers):
        path, _, query = path.partition("?")
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SCRIPT_NAME": "",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "testserver",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            **headers,
        }
        answer = {}

        def start_response(status, response_headers, exc_info=None):
            answer["status"], answer["headers"] = status, response_headers

        chunks = app(environ, start_response)
        try:
            body = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        return answer["status"], {name: value for name, value in answer["headers"] if name != "Date"}, body

    call.django = seen
    yield call
    signals.request_started.disconnect(started)
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def rooms(many_live_rooms, make_room, streamer):
    many_live_rooms(3)
    return {"live": many_live_rooms(1)[0].pk, "created": make_room(streamer).pk}


@pytest.mark.parametrize("path", CACHED)
def test_a_cached_answer_from_the_front_is_djangos_to_the_byte(path, rooms, wsgi):
    path = path.format(**rooms)
    wsgi(django_application, path)  # a miss: computed and stored
    whole = wsgi(django_application, path)  # Django's own answer from the cache
    seen = len(wsgi.django)
    assert wsgi(front, path) == whole
    assert len(wsgi.django) == seen  # answered by the front: Django's handler never saw it
    assert whole[0] == "200 OK" and whole[1]["ETag"] and whole[1]["Content-Length"] == str(len(whole[2]))


def test_a_revalidation_from_the_front_is_djangos_304(rooms, wsgi):
    tag = wsgi(django_application, "/api/v1/rooms/")[1]["ETag"]
    seen = len(wsgi.django)
    answer = wsgi(front, "/api/v1/rooms/", HTTP_IF_NONE_MATCH=tag)
    assert len(wsgi.django) == seen
    assert answer == wsgi(django_application, "/api/v1/rooms/", HTTP_IF_NONE_MATCH=tag)
    assert answer[0] == "304 Not Modified" and answer[2] == b""


def test_a_hit_costs_no_query_and_one_round_trip(rooms, wsgi, django_assert_num_queries, redis_round_trips):
    for path in ("/api/v1/rooms/", f"/api/v1/rooms/{rooms['live']}/"):
        wsgi(front, path)  # a miss, from Django
        redis_round_trips.clear()
        with django_assert_num_queries(0):
            assert wsgi(front, path)[0] == "200 OK"
        assert len(redis_round_trips) == 1, path


def test_a_hit_is_counted_by_view(client, rooms, wsgi, settings):
    settings.METRICS_ALLOWED = ["127.0.0.0/8"]
    wsgi(front, "/api/v1/rooms/")
    before = scrape(client)
    seen = len(wsgi.django)
    wsgi(front, "/api/v1/rooms/")
    assert len(wsgi.django) == seen
    count = "liveroom_http_request_duration_seconds_count"
    labels = {"view": "room-list", "method": "GET", "status": "200"}
    assert value(scrape(client), count, **labels) - value(before, count, **labels) == 1


@pytest.mark.parametrize(
    "path, method, headers",
    [
        ("/api/v1/rooms/", "HEAD", {}),
        ("/api/v1/rooms/", "GET", {"HTTP_AUTHORIZATION": "Token nope"}),
        ("/api/v1/rooms/", "GET", {"HTTP_COOKIE": f"{django_settings.SESSION_COOKIE_NAME}=abc"}),
        ("/api/v1/rooms/", "GET", {"HTTP_ACCEPT": "text/html"}),
        ("/api/v1/rooms/?format=json", "GET", {}),
        ("/api/v1/rooms/?page_size=0", "GET", {}),  # 400
        ("/api/v1/rooms/{created}/", "GET", {}),  # 404: not live
        ("/api/v1/rooms/mine/", "GET", {}),  # 401
        ("/api/v1/rooms/999999999/", "GET", {}),
    ],
)
def test_anything_else_is_djangos(path, method, headers, rooms, wsgi):
    path = path.format(**rooms)
    for _ in range(2):  # the second time, whatever could be cached is
        seen = len(wsgi.django)
        answer = wsgi(front, path, method, **headers)
        assert len(wsgi.django) == seen + 1, answer[0]
    assert answer[:2] == wsgi(django_application, path, method, **headers)[:2]


def test_with_the_hot_path_off_the_front_is_off_too(rooms, wsgi):
    wsgi(front, "/api/v1/rooms/")
    with override_settings(MIDDLEWARE=[name for name in django_settings.MIDDLEWARE if name != HOT]):
        seen = len(wsgi.django)
        assert wsgi(front, "/api/v1/rooms/")[0] == "200 OK"
        assert len(wsgi.django) == seen + 1


def test_while_redis_cannot_be_reached_django_answers(rooms, wsgi, monkeypatch):
    wsgi(front, "/api/v1/rooms/")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once closed
    dead = redis.Redis(port=port, socket_connect_timeout=0.2, socket_timeout=0.2)
    with monkeypatch.context() as patched:  # undone before the test's keys are cleaned up
        patched.setattr(listcache, "get_redis", lambda: dead)
        patched.setattr(infra_redis, "get_redis", lambda: dead)  # the lookup scripts' client
        seen = len(wsgi.django)
        status, _, body = wsgi(front, "/api/v1/rooms/")
        assert len(wsgi.django) == seen + 1
    assert status == "200 OK" and b'"count":4' in body  # from the database


def test_a_lookup_that_fails_is_left_to_django(rooms, wsgi, monkeypatch):
    def broken(request, action, pk=None):
        raise ValueError("broken lookup")

    wsgi(front, "/api/v1/rooms/")
    monkeypatch.setattr(RoomViewSet, "cached_answer", staticmethod(broken))
    seen = len(wsgi.django)
    assert wsgi(front, "/api/v1/rooms/")[0] == "200 OK"  # Django's own lookup is not the broken one
    assert len(wsgi.django) == seen + 1


def test_a_room_that_went_off_air_is_not_answered_from_the_front(rooms, wsgi):
    path = f"/api/v1/rooms/{rooms['live']}/"
    wsgi(front, path)
    assert wsgi(front, path)[0] == "200 OK"
    Room.objects.filter(pk=rooms["live"]).update(status=Room.Status.CLOSED)
    listcache.invalidate()  # what a status change does once it commits (listcache.follow_status)
    assert wsgi(front, path)[0] == "404 Not Found"


def test_a_miss_through_the_front_looks_up_once(rooms, wsgi, django_assert_num_queries, redis_round_trips):
    redis_round_trips.clear()
    with django_assert_num_queries(3):
        status, _, body = wsgi(front, "/api/v1/rooms/")
    assert status == "200 OK"
    assert len(redis_round_trips) == 3  # the front's lookup, the page's counts, the store
    assert wsgi(front, "/api/v1/rooms/")[2] == body
