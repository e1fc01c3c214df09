"""The shipped nginx front (deploy/nginx/liveroom.conf) in front of two web nodes (deploy/Procfile), over TLS."""

import time

import pytest
import requests

from rooms.models import Room

from .front import start_nginx, start_node
from .procs import wait_http

pytestmark = pytest.mark.django_db(transaction=True)
TTL = 3


@pytest.fixture
def front(procs, node_env, tmp_path):
    redis_server = procs.redis()
    env = node_env(
        f"redis://127.0.0.1:{redis_server.port}/0",
        ROOM_LIST_CACHE_TTL=TTL,
        DJANGO_BEHIND_HTTPS_PROXY="on",
        DJANGO_NUM_PROXIES=1,
    )
    nodes = [start_node(procs, f"web{i}", env) for i in (1, 2)]
    for node in nodes:
        wait_http(node)
    nginx = start_nginx(
        procs, tmp_path / "nginx", [n.port for n in nodes], callback_allow="deny 127.0.0.1;\nallow all;\n"
    )
    http = requests.Session()
    http.verify, http.trust_env = nginx.cert, False  # our certificate, not a CA bundle from the environment
    nginx.http, nginx.nodes = http, nodes
    return nginx


def open_live_room(front, token):
    http = front.http
    auth = {"Authorization": f"Token {token}"}
    created = http.post(f"{front.url}/api/v1/rooms/", json={"title": "Evening show"}, headers=auth)
    assert created.status_code == 201
    room = created.json()
    assert http.post(f"{front.url}/api/v1/rooms/{room['id']}/live/", headers=auth).status_code == 200
    return room, auth, created


def listed(front, **headers):
    r = front.http.get(f"{front.url}/api/v1/rooms/", headers=headers)
    return r, ([room["id"] for room in r.json()["results"]] if r.status_code == 200 else None)


def test_nginx_front(front, moderator_login, streamer_tokens):
    http, url = front.http, front.url
    room, auth, created = open_live_room(front, *streamer_tokens(1))

    # Public answers: micro-cached by nginx, with the app's Cache-Control and ETag passed on.
    first, ids = listed(front)
    assert ids == [room["id"]]
    again, _ = listed(front)
    assert again.headers["X-Cache-Status"] == "HIT", again.headers
    assert again.headers["Cache-Control"] == f"public, max-age={TTL}, stale-while-revalidate={TTL}"
    assert again.headers["ETag"] == first.headers["ETag"] and not again.headers["ETag"].startswith("W/")
    detail = http.get(f"{url}/api/v1/rooms/{room['id']}/")
    assert detail.headers["Cache-Control"].startswith("public, max-age=") and detail.headers["ETag"]

    # 304 through nginx, without a body.
    r = http.get(f"{url}/api/v1/rooms/", headers={"If-None-Match": first.headers["ETag"]})
    assert r.status_code == 304 and r.content == b""
    r = http.get(f"{url}/api/v1/rooms/{room['id']}/", headers={"If-None-Match": detail.headers["ETag"]})
    assert r.status_code == 304

    # Push URLs and the caller's own rooms are never stored.
    assert created.headers["Cache-Control"] == "private, no-store"
    for _ in range(2):
        fresh = http.post(f"{url}/api/v1/rooms/{room['id']}/push-url/", headers=auth)
        assert fresh.status_code == 200 and fresh.headers["Cache-Control"] == "private, no-store"
        assert fresh.headers.get("X-Cache-Status") != "HIT"
        mine = http.get(f"{url}/api/v1/rooms/mine/", headers=auth)
        assert mine.headers["X-Cache-Status"] == "MISS" and mine.json()["results"][0]["id"] == room["id"]
    assert http.get(f"{url}/api/v1/rooms/mine/").status_code == 401  # someone else never gets the owner's

    # A ban (in the admin, through nginx) leaves what nginx serves within max-age.
    moderator = moderator_login(url, verify=front.cert)
    moderator.ban([room["id"]])
    banned_at = time.monotonic()
    while room["id"] in listed(front)[1] or http.get(f"{url}/api/v1/rooms/{room['id']}/").status_code != 404:
        assert time.monotonic() - banned_at <= TTL, "the banned room is still served past max-age"
        time.sleep(0.1)
    assert Room.objects.get(pk=room["id"]).status == Room.Status.BANNED

    # HTTP goes to HTTPS; static files come from nginx; bodies are limited; callbacks restricted.
    plain = requests.get(f"http://127.0.0.1:{front.http_port}/api/v1/rooms/?page=1", allow_redirects=False)
    assert plain.status_code == 301 and plain.headers["Location"] == "https://127.0.0.1/api/v1/rooms/?page=1"
    static = http.get(f"{url}/static/js/app.js")
    assert static.status_code == 200 and "X-Cache-Status" not in static.headers and "Expires" in static.headers
    big = http.post(f"{url}/api/v1/rooms/", data=b"x" * 20_000, headers={**auth, "Content-Type": "application/json"})
    assert big.status_code == 413
    assert http.post(f"{url}/callbacks/tencent/", json={}).status_code == 403

    # A killed node is routed around: every request still answered.
    front.nodes[0].kill()
    answers = [http.get(f"{url}/api/v1/rooms/mine/", headers=auth).status_code for _ in range(20)]
    answers += [listed(front)[0].status_code for _ in range(5)]
    assert answers == [200] * 25
