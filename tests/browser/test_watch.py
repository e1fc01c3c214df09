import pytest
from playwright.sync_api import expect

from rooms import services
from rooms.models import Room, RoomEvent

from .conftest import eventually

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def api_room(api, room):
    return api.get(f"/api/v1/rooms/{room.pk}/").json()


def test_watch_page_counts_a_join_and_rapid_likes(page, api, live_room):
    likes_sent = []
    page.on(
        "response",
        lambda r: likes_sent.append(r.request.post_data_json["count"]) if r.url.endswith("/like/") and r.ok else None,
    )

    page.goto(f"/rooms/{live_room.pk}/")
    expect(page.locator(".watch-title")).to_have_text("Evening show")
    expect(page.locator(".owner-row")).to_contain_text("Streamer Sam")
    expect(page.locator('.stats [data-field="viewer_count"]')).to_have_text("1")

    like = page.get_by_role("button", name="Like")
    for _ in range(20):
        like.click()
    expect(page.locator('.stats [data-field="like_count"]')).to_have_text("20")

    assert eventually(lambda: sum(likes_sent) == 20, page=page)
    assert len(likes_sent) < 20  # clicks travel in batches
    assert api_room(api, live_room)["like_count"] == 20
    assert api_room(api, live_room)["viewer_count"] == 1
    expect(page.locator('.stats [data-field="like_count"]')).to_have_text("20")


def test_watch_page_says_when_the_stream_has_ended(page, settings, live_room):
    settings.WEB_ROOM_REFRESH = 0.3
    page.goto(f"/rooms/{live_room.pk}/")
    expect(page.get_by_text("The stream has ended")).to_be_hidden()

    services.close_room(live_room, reason=Room.CloseReason.STREAM_ENDED, source=RoomEvent.Source.CALLBACK)

    expect(page.get_by_text("The stream has ended")).to_be_visible()
    expect(page.get_by_role("link", name="Find another live room")).to_be_visible()


def test_watch_page_waits_through_an_interruption(page, settings, live_room):
    settings.WEB_ROOM_REFRESH = 0.3
    page.goto(f"/rooms/{live_room.pk}/")

    services.mark_interrupted(live_room, source=RoomEvent.Source.CALLBACK)
    expect(page.get_by_text("The stream was interrupted.")).to_be_visible()

    services.mark_live(live_room, source=RoomEvent.Source.CALLBACK)
    expect(page.get_by_text("The stream was interrupted.")).to_be_hidden()
    expect(page.locator("#watch")).to_have_attribute("data-state", "connecting")


def test_watch_page_plays_the_hls_stream(page, play_edge, live_room):
    page.goto(f"/rooms/{live_room.pk}/")

    expect(page.locator("#watch")).to_have_attribute("data-state", "playing")
    expect(page.locator("#video")).to_be_visible()
    page.wait_for_function("document.getElementById('video').currentTime > 0.5")


def set_visibility(page, state):
    """As the browser does when the tab is hidden or shown again."""
    page.evaluate(
        """(state) => {
          Object.defineProperty(document, "visibilityState", { value: state, configurable: true });
          document.dispatchEvent(new Event("visibilitychange"));
        }""",
        state,
    )


def test_watch_page_joins_heartbeats_while_visible_and_leaves_on_close(open_page, api, settings, live_room):
    """Observed on the server: the count while the page is open, no heartbeats while it is
    hidden (so the viewer drops out after VIEWER_TIMEOUT), counted again when shown, and the
    leave beacon when the page closes."""
    from rooms import counters

    settings.HEARTBEAT_INTERVAL, settings.VIEWER_TIMEOUT = 1, 2
    page = open_page()
    beats = []
    page.on("request", lambda r: beats.append(r.url) if r.url.endswith("/heartbeat/") else None)
    answered = []
    page.on("requestfinished", lambda r: answered.append(r.url) if r.url.endswith("/heartbeat/") else None)
    page.on("requestfailed", lambda r: answered.append(r.url) if r.url.endswith("/heartbeat/") else None)
    page.goto(f"/rooms/{live_room.pk}/")
    assert eventually(lambda: counters.watching(live_room.pk) and len(beats) >= 2, page=page)
    assert len(counters.watching(live_room.pk)) == 1
    expect(page.locator('.stats [data-field="viewer_count"]')).to_have_text("1")

    set_visibility(page, "hidden")
    page.wait_for_timeout(500)  # a heartbeat already on its way when the page was hidden
    sent = len(beats)
    assert eventually(lambda: counters.watching(live_room.pk) == [], timeout=10, page=page)  # after VIEWER_TIMEOUT
    assert len(beats) == sent

    set_visibility(page, "visible")
    assert eventually(lambda: len(counters.watching(live_room.pk)) == 1, page=page)
    assert len(beats) > sent

    # A heartbeat still on its way when the tab closes could arrive after the leave (and count
    # the viewer again until VIEWER_TIMEOUT): hide the page, let those arrive, then close it.
    set_visibility(page, "hidden")
    assert eventually(lambda: len(answered) == len(beats), page=page)
    page.close(run_before_unload=True)  # as a user closing the tab: the page sees pagehide
    assert eventually(lambda: api_room(api, live_room)["viewer_count"] == 0)
    assert api_room(api, live_room)["view_count"] == 1
