"""Stream health in the studio (Chromium): a simulated degraded stream, and a real ffmpeg push's real fps.
Also the operator page in the admin, refreshing itself."""

import os
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from livecloud import stream_urls
from monitoring import health
from monitoring.models import StreamHealth
from rooms.models import Room
from tests.media import Push

from .conftest import eventually

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def screenshot(page, name, tmp_path):
    """Into the test's folder; with SCREENSHOTS=1 (`make screenshots`) into docs/screenshots too."""
    page.screenshot(path=str(tmp_path / name), full_page=True)
    if os.environ.get("SCREENSHOTS"):
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_studio_shows_a_degraded_stream_and_what_to_fix(open_page, simulator, make_room, streamer, settings, tmp_path):
    settings.WEB_ROOM_REFRESH = 0.3
    room = make_room(streamer, Room.Status.LIVE, title="Rainy rooftop")
    assert simulator.publish(stream_urls.push_url(room.stream_id)[0]).status_code == 200
    health_url = f"{simulator.url}/sim/streams/{room.stream_id}/health"
    assert requests.post(health_url, json={"fps": 11, "kbps": 700}, timeout=5).status_code == 200
    health.check()

    page = open_page(user=streamer)
    page.goto("/studio/")
    line = page.locator("[data-field=health_line]")
    expect(line).to_have_text("Your stream: 11 fps, 700 kbps, 1280x720 — needs attention")
    fixes = page.locator("[data-field=health_fixes] li")
    expect(fixes).to_have_count(2)
    expect(fixes.nth(0)).to_contain_text("lower the resolution or frame rate")
    expect(fixes.nth(1)).to_contain_text("lower the video bitrate")
    screenshot(page, "studio-stream-degraded.png", tmp_path)

    requests.post(health_url, json={"fps": 30, "kbps": 2500}, timeout=5)
    health.check()
    expect(line).to_have_text("Your stream: 30 fps, 2.5 Mbps, 1280x720 — good")
    expect(fixes).to_have_count(0)


@pytest.mark.media
def test_a_real_push_shows_its_real_fps_in_the_studio(
    open_page, live_simulator, ingest_edge, streamer_api, streamer, settings, tmp_path
):
    settings.WEB_ROOM_REFRESH = 0.5
    room = streamer_api.post("/api/v1/rooms/", {"title": "Test pattern"}, format="json").json()
    with Push(room["push_url"]) as push:  # 640x360 at 25 fps; the simulator's made-up figures are 30 fps
        assert eventually(lambda: Room.objects.get(pk=room["id"]).status == Room.Status.LIVE, timeout=20)
        hls = f"http://{settings.TENCENT_LIVE_PLAY_DOMAIN}/live/{room['stream_id']}.m3u8"
        assert eventually(lambda: requests.get(hls, timeout=5).text.count(".ts") >= 2, timeout=20), ingest_edge.log()
        assert eventually(lambda: health.check()["rooms"] == 1 and StreamHealth.objects.get().kbps, timeout=15)
        row = StreamHealth.objects.get(room_id=room["id"])
        assert 24 <= row.fps <= 26, row.fps
        assert row.resolution == "640x360" and row.declared_fps == 25 and row.kbps > 0
        assert not row.degraded

        page = open_page(user=streamer)
        page.goto("/studio/")
        expect(page.locator("[data-field=health_line]")).to_have_text(
            f"Your stream: {round(row.fps)} fps, {row.kbps} kbps, 640x360 — good"
            if row.kbps < 1000
            else f"Your stream: {round(row.fps)} fps, {row.kbps / 1000:.1f} Mbps, 640x360 — good"
        )
        screenshot(page, "studio-stream-real.png", tmp_path)
        push.stop()  # its stream-end callback lands now, not while the test's database is emptied
        assert eventually(lambda: Room.objects.get(pk=room["id"]).status == Room.Status.INTERRUPTED, timeout=15)


def test_operator_page_shows_the_figures_and_refreshes_itself(
    open_page, simulator, make_room, streamer, moderator, monkeypatch, tmp_path
):
    from monitoring import admin as ops

    monkeypatch.setattr(ops, "REFRESH_SECONDS", 0.3)
    room = make_room(streamer, Room.Status.LIVE, title="Harbour lights")
    simulator.publish(stream_urls.push_url(room.stream_id)[0])
    requests.post(f"{simulator.url}/sim/streams/{room.stream_id}/health", json={"fps": 8}, timeout=5)
    health.check()

    page = open_page(user=moderator)
    page.goto("/admin/")
    page.get_by_role("link", name="Operations overview").click()
    expect(page).to_have_url("/admin/operations/")
    expect(page.locator("[data-figure=live] .ops-value")).to_have_text("1")
    expect(page.locator("[data-figure=degraded] .ops-value")).to_have_text("1")
    expect(page.get_by_role("link", name="Harbour lights")).to_be_visible()
    screenshot(page, "admin-operations.png", tmp_path)

    make_room(streamer, Room.Status.CLOSED)  # replaces the live room: nothing live any more
    expect(page.locator("[data-figure=live] .ops-value")).to_have_text("0")
    expect(page.locator("[data-figure=degraded] .ops-value")).to_have_text("0")
