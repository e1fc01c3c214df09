"""Real-time events over Server-Sent Events (SPEC §15), served by uvicorn over real HTTP."""

import json

import pytest
import requests
from rest_framework.test import APIClient

from moderation import services as moderation
from rooms import services
from rooms.models import Room, RoomEvent

from .events_client import Stream, wait_for_subscribers

pytestmark = pytest.mark.django_db(transaction=True)
S = Room.Status
SRC = RoomEvent.Source


@pytest.fixture(autouse=True)
def redis_mode(settings):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")


def open_stream(url, **kwargs):
    stream = Stream(url, **kwargs)
    assert stream.status_code == 200, stream.text
    wait_for_subscribers()
    return stream


def data(stream, kind):
    return [json.loads(text) for _, event_kind, text in stream.events if event_kind == kind]


def test_list_stream_tells_rooms_going_live_and_ending_in_order_with_ids(events_server, make_room, streamer, make_user):
    stream = open_stream(f"{events_server}/api/v1/events/?rooms=list")
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    assert stream.headers["Cache-Control"] == "no-store"
    assert stream.headers["Access-Control-Allow-Origin"] == "*"
    first, second = make_room(streamer), make_room(make_user())
    services.mark_live(first, source=SRC.CALLBACK)
    services.mark_live(second, source=SRC.CALLBACK)
    services.close_room(first, reason=Room.CloseReason.OWNER, source=SRC.API)
    stream.wait(lambda s: len(s.events) == 3)
    assert stream.retry == 3000
    assert stream.kinds() == ["room.live", "room.live", "room.ended"]
    live = data(stream, "room.live")
    assert [room["id"] for room in live] == [first.pk, second.pk]
    assert live[0]["title"] == first.title and live[0]["play_urls"]["hls"]
    assert data(stream, "room.ended") == [{"id": first.pk}]
    ids = [event_id for event_id, _, _ in stream.events]
    assert all(ids) and ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-"))))
    stream.close()


def test_room_stream_pushes_counts_likes_and_status_and_ends_when_banned(
    events_server, make_room, streamer, moderator, simulator
):
    room = make_room(streamer, S.LIVE)
    stream = open_stream(f"{events_server}/api/v1/rooms/{room.pk}/events/")
    api = APIClient()
    for _ in range(3):
        assert api.post(f"/api/v1/rooms/{room.pk}/like/", {"count": 5}, format="json").status_code == 202
    stream.wait(lambda s: data(s, "counts") and data(s, "counts")[-1]["like_count"] == 15)
    # at most one counts event a second: the first at once, the rest together a second later
    counts = data(stream, "counts")
    assert len(counts) <= 2
    # `likes`: the likes since the previous counts
    assert sum(event["likes"] for event in data(stream, "likes")) == 15 - counts[0]["like_count"]
    services.mark_interrupted(room, source=SRC.CALLBACK)
    moderation.ban_room(room, moderator=moderator, reason="violence")
    stream.wait(lambda s: s.ended)
    statuses = data(stream, "status")
    assert [event["status"] for event in statuses] == ["interrupted", "banned"]


def test_resume_with_last_event_id_replays_what_was_missed(events_server, make_room, streamer, make_user):
    rooms = [make_room(make_user()) for _ in range(3)]
    stream = open_stream(f"{events_server}/api/v1/events/?rooms=list")
    services.mark_live(rooms[0], source=SRC.CALLBACK)
    stream.wait(lambda s: len(s.events) == 1)
    last_id = stream.events[0][0]
    stream.close()
    services.mark_live(rooms[1], source=SRC.CALLBACK)  # while the client was away
    services.mark_live(rooms[2], source=SRC.CALLBACK)
    again = Stream(f"{events_server}/api/v1/events/?rooms=list", headers={"Last-Event-ID": last_id})
    again.wait(lambda s: len(s.events) == 2)
    assert [json.loads(text)["id"] for _, _, text in again.events] == [rooms[1].pk, rooms[2].pk]
    # the same with the query parameter, for clients that cannot set headers
    third = Stream(f"{events_server}/api/v1/events/?rooms=list&last_event_id={last_id}")
    third.wait(lambda s: len(s.events) == 2)
    again.close(), third.close()


def test_resume_from_an_event_no_longer_kept_gets_a_reset(events_server, make_room, make_user, settings):
    settings.EVENTS_KEEP = 10
    rooms = [make_room(make_user()) for _ in range(40)]
    stream = open_stream(f"{events_server}/api/v1/events/?rooms=list")
    services.mark_live(rooms[0], source=SRC.CALLBACK)
    stream.wait(lambda s: len(s.events) == 1)
    last_id = stream.events[0][0]
    stream.close()
    for room in rooms[1:]:
        services.mark_live(room, source=SRC.CALLBACK)
    again = Stream(f"{events_server}/api/v1/events/?rooms=list", headers={"Last-Event-ID": last_id})
    again.wait(lambda s: s.events)
    assert again.kinds()[0] == "reset"
    again.close()


def test_heartbeats_keep_an_idle_stream_open(events_server, settings):
    settings.EVENTS_HEARTBEAT = 1
    stream = open_stream(f"{events_server}/api/v1/events/?rooms=list")
    stream.wait(lambda s: s.comments >= 2, timeout=6)
    assert not stream.ended and not stream.events
    stream.close()


@pytest.mark.parametrize(
    ("path", "headers", "status", "code"),
    [
        ("/api/v1/events/", {}, 400, "invalid"),
        ("/api/v1/events/?rooms=everything", {}, 400, "invalid"),
        ("/api/v1/events/?rooms=list&page=2", {}, 400, "invalid"),
        ("/api/v1/events/?rooms=list", {"Last-Event-ID": "yesterday"}, 400, "invalid"),
        ("/api/v1/rooms/999999999/events/", {}, 404, "not_found"),
    ],
)
def test_bad_requests_are_json_errors_before_any_stream(events_server, path, headers, status, code):
    response = requests.get(f"{events_server}{path}", headers=headers, timeout=10)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["code"] == code


def test_a_room_the_caller_may_not_see_is_404_and_its_owner_sees_it(events_server, make_room, streamer):
    from rest_framework.authtoken.models import Token

    room = make_room(streamer)  # created: not public yet
    url = f"{events_server}/api/v1/rooms/{room.pk}/events/"
    assert requests.get(url, timeout=10).status_code == 404
    token = Token.objects.create(user=streamer).key
    stream = Stream(url, headers={"Authorization": f"Token {token}"})
    assert stream.status_code == 200
    stream.close()


def test_under_wsgi_the_streams_answer_503_so_pages_poll(client):
    response = client.get("/api/v1/events/?rooms=list")
    assert response.status_code == 503 and response["Retry-After"]
    assert response.json()["code"] == "unavailable"
