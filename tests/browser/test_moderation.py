"""Moderators find a violation and ban it, in Chromium, against a real stream: ffmpeg pushes a
test pattern to the ingest edge, the simulator takes real frames of it and sends the screenshot
callback, the live wall shows the frame, a viewer reports the room from the watch page, the
queue shows it, and a ban from the queue cuts the push."""

import io
import os
from pathlib import Path

import pytest
import requests
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.models import User
from livecloud import stream_urls
from livecloud.sim.core import jpeg_size
from moderation.models import Decision, Report, RoomBan
from moderation.tasks import enforce_room_ban
from rooms import counters
from rooms.models import Room
from tests.media import Push

from .conftest import eventually

pytestmark = [pytest.mark.browser, pytest.mark.media, pytest.mark.django_db(transaction=True)]
OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
COVER_HOST = "https://covers.example.com/"
COVERS = Path(__file__).resolve().parent / "covers"


def status(room_id):
    return Room.objects.get(pk=room_id).status


def snapshot_of(room_id):
    return Room.objects.get(pk=room_id).snapshot_url


def screenshot(page, name):
    if os.environ.get("SCREENSHOTS"):
        OUT.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=OUT / f"{name}.png")


@pytest.fixture
def other_rooms(make_user, make_room):
    """Two more live rooms for the wall: one with a cover, one with neither cover nor snapshot."""
    covered = make_room(
        make_user(nickname="Aiko"), Room.Status.LIVE, title="City lights walk", cover_url=f"{COVER_HOST}city.svg"
    )
    bare = make_room(make_user(nickname="Leo"), Room.Status.LIVE, title="Ranked grind")
    counters.join_all(covered.pk, [counters.new_viewer() for _ in range(1204)])
    counters.join_all(bare.pk, [counters.new_viewer() for _ in range(87)])
    return covered, bare


def test_wall_shows_the_real_frame_a_report_queues_the_room_and_a_ban_from_the_queue_cuts_it(
    open_page, live_simulator, ingest_edge, streamer_api, other_rooms, settings
):
    settings.SIM_SNAPSHOT_INTERVAL = 1
    settings.MODERATION_WALL_REFRESH = 1
    settings.WEB_ROOM_REFRESH = 60  # the watch page's polling is not what this test is about
    live_simulator.configure()  # the snapshot interval, from the settings above
    call_command("demo_accounts", stdout=io.StringIO())
    moderator = User.objects.get(username="moderator")
    room = streamer_api.post("/api/v1/rooms/", {"title": "Test pattern"}, format="json").json()
    room_id = room["id"]

    with Push(room["push_url"]) as push:
        assert eventually(lambda: status(room_id) == Room.Status.LIVE, timeout=20), ingest_edge.log()
        assert eventually(lambda: snapshot_of(room_id).startswith(live_simulator.url), timeout=30), push.errors()
        frame = requests.get(snapshot_of(room_id), timeout=5)
        assert frame.headers["Content-Type"] == "image/jpeg" and jpeg_size(frame.content) == (640, 360)

        wall = open_page(user=moderator)
        wall.route(f"{COVER_HOST}**", lambda route: route.fulfill(path=COVERS / route.request.url.rsplit("/", 1)[1]))
        wall.goto("/admin/moderation/wallroom/")
        tile = wall.locator(f'.mod-tile[data-room-id="{room_id}"]')
        expect(tile).to_contain_text("Test pattern")
        picture = tile.locator('img[data-field="picture"]')
        wall.wait_for_function("img => img.complete && img.naturalWidth === 640", arg=picture.element_handle())
        covered, bare = other_rooms
        expect(wall.locator(f'.mod-tile[data-room-id="{covered.pk}"] img')).to_have_attribute("src", covered.cover_url)
        expect(wall.locator(f'.mod-tile[data-room-id="{bare.pk}"] img')).to_be_hidden()
        wall.evaluate("window.notReloaded = true")

        viewer = open_page()
        viewer.goto(f"/rooms/{room_id}/")
        viewer.get_by_role("button", name="Report").click()
        viewer.get_by_label("Spam or scam").check()
        viewer.get_by_label("Details (optional)").fill("Keeps posting a link to a scam shop")
        screenshot(viewer, "watch-report")
        viewer.get_by_role("button", name="Send report").click()
        expect(viewer.get_by_text("your report was sent to the moderators")).to_be_visible()
        assert Report.objects.get(room_id=room_id).reason == "spam"

        expect(tile.locator(".badge-report")).to_have_text("1 report", timeout=10_000)  # the wall refreshed itself
        assert wall.evaluate("window.notReloaded") is True
        assert live_simulator.publish(stream_urls.push_url(bare.stream_id)[0]).status_code == 200
        r = live_simulator.moderation(bare.stream_id, suggestion="Review", label="Violence", score=81)
        assert r.json()["callbacks"][0]["results"] == [200]
        expect(wall.locator(f'.mod-tile[data-room-id="{bare.pk}"] .badge-review')).to_be_visible(timeout=10_000)
        wall.wait_for_load_state("networkidle")
        screenshot(wall, "moderation-wall")

        queue = open_page(user=moderator)
        queue.route(f"{COVER_HOST}**", lambda route: route.fulfill(path=COVERS / route.request.url.rsplit("/", 1)[1]))
        queue.goto("/admin/moderation/queuedroom/")
        rows = queue.locator("#queue tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text("Review ×1")  # a Review verdict ranks above one report
        row = queue.locator(f'#queue tr[data-room-id="{room_id}"]')
        expect(row).to_contain_text("Spam or scam ×1")
        screenshot(queue, "moderation-queue")

        row.get_by_role("link", name="Ban…").click()
        expect(queue.get_by_label("Reason")).to_have_value("Reported by viewers: Spam or scam.")
        screenshot(queue, "moderation-ban-form")
        queue.get_by_role("button", name="Ban").click()
        expect(queue.locator(".messagelist")).to_contain_text('Banned "Test pattern"')
        expect(queue.locator(f'#queue tr[data-room-id="{room_id}"]')).to_have_count(0)
        assert status(room_id) == Room.Status.BANNED
        decision = Decision.objects.get(room_id=room_id)
        assert (decision.outcome, decision.moderator, decision.reports) == ("banned", moderator, 1)

        assert enforce_room_ban(RoomBan.objects.get(room_id=room_id).pk) is True  # the task queued on commit
        assert push.ended() not in (None, 0)  # the push was cut at the edge
        assert live_simulator.state()["streams"][room["stream_id"]]["state"] == "forbid"
