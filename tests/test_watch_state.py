"""`/rooms/{id}/state/` tells the watch page whether its stream paused or ended, and tells
nobody else anything about rooms they may not see: those are the 404 of a room that does not exist."""

import re

import pytest
from django.test import Client

from rooms import services
from rooms.models import Room, RoomEvent

pytestmark = pytest.mark.django_db
S = Room.Status
MISSING = 10**9


def page(response, pk):
    """The body without what differs in every answer anyway: the CSRF token (masked afresh) and
    the asked-for URL (in the log-in link's `next`)."""
    body = re.sub(rb'name="csrf-token" content="[^"]*"', b"", response.content)
    return body.replace(f"/rooms/{pk}/".encode(), b"/rooms/ID/")


def state_url_of_watch_page(client, room):
    page = client.get(f"/rooms/{room.pk}/").content.decode()
    return re.search(r'data-state-url="([^"]+)"', page).group(1).replace("&amp;", "&")


@pytest.mark.parametrize("status", [S.CREATED, S.INTERRUPTED, S.CLOSED, S.BANNED])
def test_a_room_the_caller_may_not_see_answers_like_a_missing_room(make_room, streamer, status):
    room = make_room(streamer, status)
    client = Client()
    hidden, missing = client.get(f"/rooms/{room.pk}/state/"), client.get(f"/rooms/{MISSING}/state/")
    assert hidden.status_code == missing.status_code == 404
    assert page(hidden, room.pk) == page(missing, MISSING)
    for forged in ("x", "1:abc", state_key_of_another_room(make_room)):
        forged_answer = client.get(f"/rooms/{room.pk}/state/", {"key": forged})
        assert forged_answer.status_code == 404 and page(forged_answer, room.pk) == page(missing, MISSING)


def state_key_of_another_room(make_room):
    from django.contrib.auth import get_user_model

    other = make_room(get_user_model().objects.create_user("other-streamer"), S.LIVE)
    return state_url_of_watch_page(Client(), other).split("key=")[1]


@pytest.mark.parametrize(
    ("transition", "state"),
    [
        (lambda room: services.mark_interrupted(room, source=RoomEvent.Source.CALLBACK), "interrupted"),
        (lambda room: services.close_room(room, reason="stream_ended", source=RoomEvent.Source.SWEEPER), "ended"),
        (lambda room: services.ban_room(room, reason="spam"), "ended"),
    ],
    ids=["interrupted", "closed", "banned"],
)
def test_the_watch_page_of_a_live_room_learns_how_it_left_live(live_room, transition, state):
    viewer = Client()
    url = state_url_of_watch_page(viewer, live_room)
    assert viewer.get(url).json() == {"state": "live"}
    transition(live_room)
    assert viewer.get(url).json() == {"state": state}
    assert viewer.get(f"/rooms/{live_room.pk}/state/").status_code == 404  # without the page's key: nothing


def test_the_owner_sees_the_state_of_their_own_room(make_room, streamer):
    owner = Client()
    owner.force_login(streamer)
    room = make_room(streamer, S.INTERRUPTED)
    assert owner.get(f"/rooms/{room.pk}/state/").json() == {"state": "interrupted"}
