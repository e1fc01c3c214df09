"""The whole story over real HTTP: the API under live_server, the simulator, its signed callbacks,
and the sweeper talking to the simulator through the real cloud client."""

import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.utils import timezone

from livecloud.stream_urls import signed_query
from rooms import sweeper
from rooms.models import Room, RoomEvent


class App:
    """A streamer using the REST API over HTTP."""

    def __init__(self, base):
        self.base = f"{base}/api/v1"
        self.http = requests.Session()

    def register(self, username):
        r = self.http.post(f"{self.base}/auth/register/", json={"username": username, "password": "a-long-pass-123"})
        assert r.status_code == 201, r.text
        self.http.headers["Authorization"] = f"Token {r.json()['token']}"

    def open_room(self, title):
        r = self.http.post(f"{self.base}/rooms/", json={"title": title})
        assert r.status_code == 201, r.text
        return r.json()

    def room(self, room_id):
        return self.http.get(f"{self.base}/rooms/{room_id}/").json()

    def listed(self):
        return [r["id"] for r in requests.get(f"{self.base}/rooms/").json()["results"]]


def wait_past(moment):
    time.sleep(max(0.0, (moment - timezone.now()).total_seconds()) + 0.05)


def test_open_publish_stop_reconnect_window_and_zombie(live_simulator, settings):
    settings.RECONNECT_WINDOW = 1
    app = App(live_simulator.web)
    app.register("sam")

    room = app.open_room("Evening show")
    assert room["status"] == "created" and room["id"] not in app.listed()

    pushed = live_simulator.publish(room["push_url"])
    assert pushed.status_code == 200
    assert pushed.json()["stream_id"] == room["stream_id"]
    assert pushed.json()["callbacks"][0]["results"] == [200]
    assert app.room(room["id"])["status"] == "live"
    assert room["id"] in app.listed()

    live_simulator.stop(room["stream_id"])
    assert app.room(room["id"])["status"] == "interrupted"
    assert room["id"] not in app.listed()

    live_simulator.publish(room["push_url"])  # the streamer reconnects within the window
    assert app.room(room["id"])["status"] == "live"
    sweeper.sweep()
    assert app.room(room["id"])["status"] == "live"

    live_simulator.stop(room["stream_id"])
    sweeper.sweep()
    assert app.room(room["id"])["status"] == "interrupted"  # still inside the reconnect window
    wait_past(Room.objects.get(pk=room["id"]).interrupted_at + timedelta(seconds=settings.RECONNECT_WINDOW))
    sweeper.sweep()
    ended = app.room(room["id"])
    assert (ended["status"], ended["close_reason"]) == ("closed", "stream_ended")

    second = app.open_room("Late show")
    live_simulator.publish(second["push_url"])
    assert app.room(second["id"])["status"] == "live"
    live_simulator.crash(second["stream_id"])  # vanishes without a callback
    assert app.room(second["id"])["status"] == "live"
    for _ in range(2):
        sweeper.sweep()
        assert app.room(second["id"])["status"] == "live"
    sweeper.sweep()
    zombie = app.room(second["id"])
    assert (zombie["status"], zombie["close_reason"]) == ("closed", "zombie")
    assert app.listed() == []
    assert len(live_simulator.calls("DescribeLiveStreamOnlineList")) == 6


def resigned(push_url, *, key, expires_at):
    url = urlsplit(push_url)
    stream_id = url.path.rsplit("/", 1)[1]
    return f"{url.scheme}://{url.netloc}{url.path}?{signed_query(key, stream_id, expires_at)}"


@pytest.mark.parametrize(
    ("key", "ttl", "reason"),
    [("wrong-push-key", 3600, "txSecret does not match"), (None, -60, "txTime expired")],
    ids=["wrong-key", "expired-txtime"],
)
def test_simulator_refuses_bad_push_urls(live_simulator, settings, key, ttl, reason):
    app = App(live_simulator.web)
    app.register("mia")
    room = app.open_room("Show")
    bad = resigned(
        room["push_url"],
        key=key or settings.TENCENT_LIVE_PUSH_KEY,
        expires_at=timezone.now() + timedelta(seconds=ttl),
    )
    refused = live_simulator.publish(bad)
    assert refused.status_code == 403 and reason in refused.json()["reason"]
    assert live_simulator.state()["streams"] == {} and live_simulator.callbacks() == []
    assert app.room(room["id"])["status"] == "created"
    assert parse_qs(urlsplit(room["push_url"]).query)["txTime"]  # the genuine URL still works
    assert live_simulator.publish(room["push_url"]).status_code == 200


def test_lost_push_callback_is_healed_by_the_sweeper(live_simulator):
    app = App(live_simulator.web)
    app.register("lou")
    room = app.open_room("Show")
    live_simulator.faults(callback_drop_rate=1)
    live_simulator.publish(room["push_url"])
    assert app.room(room["id"])["status"] == "created"
    sweeper.sweep()
    assert app.room(room["id"])["status"] == "live" and room["id"] in app.listed()


def test_duplicated_callbacks_are_applied_once(live_simulator):
    app = App(live_simulator.web)
    app.register("dee")
    room = app.open_room("Show")
    live_simulator.faults(callback_duplicate=True)
    pushed = live_simulator.publish(room["push_url"])
    assert pushed.json()["callbacks"][0]["results"] == [200, 200]
    live_simulator.stop(room["stream_id"])
    transitions = RoomEvent.objects.filter(room_id=room["id"]).values_list("old_status", "new_status")
    assert list(transitions) == [("created", "live"), ("live", "interrupted")]
