"""A real stream end to end: the API issues a push URL, ffmpeg pushes a test pattern to the
ingest edge (nginx-rtmp), the simulator's hooks check it and call back, the watch page in
Chromium plays the HLS that the edge makes of it, and bans and stops cut it for real."""

import os
import subprocess
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from django.utils import timezone
from playwright.sync_api import expect

import livecloud
from livecloud.stream_urls import tx_secret
from moderation import services as moderation
from moderation.tasks import enforce_room_ban
from rooms import sweeper
from rooms.models import Room, RoomEvent
from tests.media import Push

from .conftest import eventually

pytestmark = [pytest.mark.browser, pytest.mark.media, pytest.mark.django_db(transaction=True)]
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "watch-real-stream.png"


def status(room_id):
    return Room.objects.get(pk=room_id).status


def online():
    return livecloud.get_client().online_streams()


def hls_segments(url):
    response = requests.get(url, timeout=5)
    return [line for line in response.text.splitlines() if line.endswith(".ts")] if response.ok else []


def tampered(push_url):
    """The same push URL with a txSecret signed by another key."""
    url = urlsplit(push_url)
    stream_id, query = url.path.rsplit("/", 1)[1], dict(p.split("=", 1) for p in url.query.split("&"))
    forged = tx_secret("not-the-push-key", stream_id, query["txTime"])
    return push_url.replace(query["txSecret"], forged)


def video_time(page):
    return page.evaluate("document.getElementById('video').currentTime")


def test_pushed_test_pattern_plays_on_the_watch_page_and_bans_cut_it(
    open_page, live_simulator, ingest_edge, streamer_api, api, moderator, settings
):
    settings.RECONNECT_WINDOW = 1
    settings.WEB_ROOM_REFRESH = 0.5
    room = streamer_api.post("/api/v1/rooms/", {"title": "Test pattern"}, format="json").json()
    room_id, stream_id = room["id"], room["stream_id"]

    with Push(room["push_url"]) as push:
        assert eventually(lambda: status(room_id) == Room.Status.LIVE, timeout=20), ingest_edge.log()
        went_live = RoomEvent.objects.get(room_id=room_id, new_status=Room.Status.LIVE)
        assert went_live.source == RoomEvent.Source.CALLBACK
        assert stream_id in online()

        play_urls = api.get(f"/api/v1/rooms/{room_id}/").json()["play_urls"]
        assert eventually(lambda: len(hls_segments(play_urls["hls"])) >= 2, timeout=20), ingest_edge.log()
        probe = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", play_urls["rtmp"]],
            capture_output=True,
            text=True,
            timeout=20,
        )
        assert {"h264", "aac"} <= set(probe.stdout.split()), probe.stderr

        page = open_page()
        page.goto(f"/rooms/{room_id}/")
        expect(page.locator("#watch")).to_have_attribute("data-state", "playing", timeout=20_000)
        started = video_time(page)
        page.wait_for_function(f"document.getElementById('video').currentTime > {started} + 1.5", timeout=15_000)
        if os.environ.get("SCREENSHOTS"):
            page.screenshot(path=SCREENSHOT)

        with Push(tampered(room["push_url"])) as forged:
            assert forged.ended() not in (None, 0)  # the edge refused it
        assert push.running and stream_id in online() and status(room_id) == Room.Status.LIVE

        push.stop()
        assert eventually(lambda: status(room_id) == Room.Status.INTERRUPTED, timeout=15)
        expect(page.locator("#watch")).to_have_attribute("data-state", "interrupted")
        assert stream_id not in online()

    window_end = Room.objects.get(pk=room_id).interrupted_at + timedelta(seconds=settings.RECONNECT_WINDOW)
    time.sleep(max(0.0, (window_end - timezone.now()).total_seconds()) + 0.05)
    sweeper.sweep()
    ended = Room.objects.get(pk=room_id)
    assert (ended.status, ended.close_reason) == (Room.Status.CLOSED, Room.CloseReason.STREAM_ENDED)
    expect(page.get_by_text("The stream has ended")).to_be_visible()

    second = streamer_api.post("/api/v1/rooms/", {"title": "Second show"}, format="json").json()
    with Push(second["push_url"]) as first_push:
        assert eventually(lambda: status(second["id"]) == Room.Status.LIVE, timeout=20), ingest_edge.log()
        with Push(second["push_url"]) as replacing:
            # a new push of the stream replaces the current one, as on Tencent
            assert first_push.ended() not in (None, 0)
            assert eventually(lambda: status(second["id"]) == Room.Status.LIVE and replacing.running, timeout=20)
            assert second["stream_id"] in online()

            ban = moderation.ban_room(Room.objects.get(pk=second["id"]), moderator=moderator, reason="Spam")
            assert enforce_room_ban(ban.pk) is True
            assert replacing.ended() not in (None, 0)  # cut off mid-stream
            assert second["stream_id"] not in online() and status(second["id"]) == Room.Status.BANNED

    with Push(second["push_url"]) as again:
        assert again.ended() not in (None, 0)  # the banned stream is refused at the edge
    assert second["stream_id"] not in online()
