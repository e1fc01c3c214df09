import re

import pytest
from playwright.sync_api import expect

from rooms import services
from rooms.models import Room, RoomEvent

from .conftest import eventually

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, username):
    page.goto("/studio/")
    expect(page).to_have_url("/login/?next=/studio/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("s3cret-pass-123")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url("/studio/")


def test_studio_opens_a_room_shows_its_push_url_and_closes_it(open_page, settings, streamer):
    settings.WEB_ROOM_REFRESH = 0.3
    page = open_page(permissions=["clipboard-read", "clipboard-write"])
    log_in(page, "streamer")

    page.get_by_label("Title").fill("Night market walk")
    page.get_by_role("button", name="Open room").click()

    push_url = page.get_by_label("Push URL")
    expect(push_url).to_have_value(
        re.compile(rf"^rtmp://{settings.TENCENT_LIVE_PUSH_DOMAIN}/live/\w+\?txSecret=\w+&txTime=\w+$")
    )
    room = Room.objects.get(owner=streamer)
    assert room.stream_id in push_url.input_value()
    expect(page.locator(".status-pill")).to_have_text("Waiting for stream")

    page.locator('[data-copy="push_url"]').click()
    assert page.evaluate("navigator.clipboard.readText()") == push_url.input_value()

    services.mark_live(room, source=RoomEvent.Source.API)
    expect(page.locator(".status-pill")).to_have_text("Live")

    close = page.get_by_role("button", name="Close room")
    close.click()
    page.get_by_role("button", name="Click again to close").click()
    expect(page.locator(".status-pill")).to_have_text("Closed")
    room.refresh_from_db()
    assert room.status == Room.Status.CLOSED and room.close_reason == Room.CloseReason.OWNER


def test_studio_shows_validation_errors(open_page, streamer):
    page = open_page(user=streamer)
    page.goto("/studio/")
    page.get_by_label("Title").fill("x")
    page.get_by_label("Cover image URL").fill("not a url")
    page.get_by_role("button", name="Open room").click()
    expect(page.locator('[data-error="cover_url"]')).to_contain_text("valid URL")
    assert not Room.objects.exists()


def test_studio_push_url_is_accepted_by_the_simulator_and_the_room_goes_live(
    open_page, live_simulator, settings, streamer
):
    settings.WEB_ROOM_REFRESH = 0.3
    page = open_page(user=streamer)
    page.goto("/studio/")
    page.get_by_label("Title").fill("Pushed for real")
    page.get_by_role("button", name="Open room").click()
    expect(page.locator(".status-pill")).to_have_text("Waiting for stream")

    published = live_simulator.publish(page.get_by_label("Push URL").input_value())

    assert published.status_code == 200, published.text
    expect(page.locator(".status-pill")).to_have_text("Live")
    viewer_page = open_page()
    viewer_page.goto("/")
    expect(viewer_page.locator(".card")).to_contain_text("Pushed for real")


def test_simulator_refuses_a_tampered_push_url(open_page, live_simulator, streamer):
    page = open_page(user=streamer)
    page.goto("/studio/")
    page.get_by_label("Title").fill("Tampered")
    page.get_by_role("button", name="Open room").click()
    expect(page.get_by_label("Push URL")).to_have_value(re.compile("txSecret="))
    push_url = page.get_by_label("Push URL").input_value()
    secret = push_url.split("txSecret=")[1][:32]

    refused = live_simulator.publish(push_url.replace(secret, secret[::-1]))

    assert refused.status_code == 403
    expect(page.locator(".status-pill")).to_have_text("Waiting for stream")


def test_studio_revalidates_its_live_room_with_if_none_match(open_page, settings, streamer, make_room):
    settings.WEB_ROOM_REFRESH = 0.3
    settings.ROOM_LIST_CACHE_TTL = 5
    room = make_room(streamer, Room.Status.LIVE, title="Night market walk")
    answers = []
    page = open_page()
    page.on(
        "response",
        lambda r: (
            answers.append((r.status, r.request.headers.get("if-none-match")))
            if r.url.endswith(f"/api/v1/rooms/{room.pk}/")
            else None
        ),
    )
    log_in(page, "streamer")
    expect(page.locator(".status-pill")).to_have_text("Live")
    eventually(lambda: any(status == 304 for status, _ in answers), page=page)
    assert any(status == 304 and tag for status, tag in answers), answers
    services.close_room(room, reason=Room.CloseReason.OWNER, source=RoomEvent.Source.API)
    expect(page.locator(".status-pill")).to_have_text("Closed")  # a changed room comes through
