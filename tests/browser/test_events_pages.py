"""The pages follow the event streams (uvicorn beside the live server) instead of polling."""

import re

import pytest
from playwright.sync_api import expect

from rooms import services
from rooms.models import RoomEvent

from ..events_client import wait_for_subscribers
from .conftest import eventually

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SRC = RoomEvent.Source


@pytest.fixture
def pushed(settings, events_server):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    settings.EVENTS_URL = events_server
    settings.WEB_LIST_REFRESH = settings.WEB_ROOM_REFRESH = 1  # a poll would show within a second
    return events_server


def requests_to(page, pattern):
    seen = []
    page.on("request", lambda request: seen.append(request.url) if re.search(pattern, request.url) else None)
    return seen


def test_watch_page_shows_another_clients_likes_without_polling(page, pushed, api, live_room):
    polls = requests_to(page, rf"/api/v1/rooms/{live_room.pk}/$")
    page.goto(f"/rooms/{live_room.pk}/")
    expect(page.locator('.stats [data-field="like_count"]')).to_have_text("0")
    wait_for_subscribers()
    page.wait_for_timeout(1500)  # an open stream: no poll in more than a refresh interval
    for _ in range(3):
        assert api.post(f"/api/v1/rooms/{live_room.pk}/like/", {"count": 7}, format="json").status_code == 202
    expect(page.locator('.stats [data-field="like_count"]')).to_have_text("21")
    page.wait_for_timeout(1200)
    assert polls == []
    services.close_room(live_room, reason="owner", source=SRC.API)
    expect(page.locator("#watch")).to_have_attribute("data-state", "ended")


def test_list_shows_a_room_going_live_without_polling(page, pushed, make_room, make_user):
    polls = requests_to(page, r"/api/v1/rooms/(\?|$)")
    page.goto("/")
    expect(page.locator("[data-empty]")).to_be_visible()
    wait_for_subscribers()
    room = make_room(make_user(nickname="Newcomer"), title="Fresh stream")
    services.mark_live(room, source=SRC.CALLBACK)
    card = page.locator(f'.card[data-room-id="{room.pk}"]')
    expect(card).to_contain_text("Fresh stream")
    expect(page.locator("[data-live-count]")).to_have_text("1")
    page.wait_for_timeout(1500)
    assert polls == []
    page.screenshot(path="/tmp/events-list.png")
    services.close_room(room, reason="owner", source=SRC.API)
    expect(card).to_have_count(0)
    assert eventually(lambda: page.locator("[data-empty]").is_visible(), page=page)


def test_pages_poll_when_there_is_no_event_stream(page, settings, api, live_room):
    settings.EVENTS_URL = "http://127.0.0.1:9"  # nothing listens: EventSource fails
    settings.WEB_ROOM_REFRESH = 1
    polls = requests_to(page, rf"/api/v1/rooms/{live_room.pk}/$")
    page.goto(f"/rooms/{live_room.pk}/")
    api.post(f"/api/v1/rooms/{live_room.pk}/like/", {"count": 4}, format="json")
    expect(page.locator('.stats [data-field="like_count"]')).to_have_text("4")
    assert polls
