"""Regenerates docs/screenshots/ (run `make screenshots`; skipped in `make test`)."""

import os
import random
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from rooms import counters
from rooms.models import Room

from .conftest import DESKTOP, PHONE

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("SCREENSHOTS"), reason="run `make screenshots` to regenerate"),
]
OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
COVERS = Path(__file__).resolve().parent / "covers"
COVER_HOST = "https://covers.example.com/"
SHOWS = [
    ("Mia", "Late-night lo-fi coding", "sunset.svg", "Shanghai"),
    ("Chen Wei", "Hand-pulled noodles from scratch", None, "Lanzhou"),
    ("Aiko", "City lights walk: the Bund", "city.svg", "Shanghai"),
    ("Leo", "Ranked grind to Diamond", "neon.svg", ""),
    ("Noor", "Street food tour: Chengdu", None, "Chengdu"),
    ("Ravi", "Guitar requests, come say hi", None, ""),
    ("Lena", "Surf check at sunrise", "ocean.svg", "Sanya"),
    ("Yuki", "Cat café live", None, "Hangzhou"),
    ("Omar", "Indie game dev: day 42", None, ""),
    ("Tess", "Forest trail run", "forest.svg", "Guilin"),
    ("Kai", "Chess blitz with viewers", None, ""),
    ("Sam", "Morning yoga flow", None, "Shenzhen"),
]


@pytest.fixture
def demo_rooms(make_user, make_room):
    rng = random.Random(7)
    now = timezone.now()
    rooms = []
    for n, (nickname, title, cover, location) in enumerate(SHOWS):
        owner = make_user(nickname.lower().replace(" ", ""), nickname=nickname)
        room = make_room(
            owner, Room.Status.LIVE, title=title, cover_url=f"{COVER_HOST}{cover}" if cover else "", location=location
        )
        Room.objects.filter(pk=room.pk).update(started_at=now - timedelta(minutes=3 + 9 * n))
        counters.join_all(room.pk, [counters.new_viewer() for _ in range(rng.randint(40, 3_000))])
        counters.like(room.pk, rng.randint(100, 120_000))
        rooms.append(room)
    return rooms


def shoot(open_page, path, name, *, user=None, ready=None):
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = open_page(viewport=viewport, user=user, reduced_motion="reduce", device_scale_factor=1)
        page.route(f"{COVER_HOST}**", lambda route: route.fulfill(path=COVERS / route.request.url.rsplit("/", 1)[1]))
        page.goto(path)
        if ready:
            ready(page)
        page.wait_for_load_state("networkidle")
        OUT.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=OUT / f"{name}-{label}.png", full_page=label == "desktop")


def playing(page):
    page.wait_for_function("document.getElementById('video').currentTime > 1.2")


def test_screenshots(open_page, play_edge, demo_rooms, make_user, make_room):
    shoot(open_page, "/", "live-list")
    watched = demo_rooms[0]
    counters.join_all(watched.pk, [counters.new_viewer() for _ in range(12_480 - len(counters.watching(watched.pk)))])
    counters.like(watched.pk, 48_213 - counters.like(watched.pk, 0))
    shoot(open_page, f"/rooms/{watched.pk}/", "watch", ready=playing)

    streamer = make_user("streamer", nickname="Streamer Sam")
    for title, viewers, likes in (("Sunday market stroll", 3_412, 18_250), ("Q&A: building a live app", 861, 4_012)):
        past = make_room(streamer, Room.Status.CLOSED, title=title)
        Room.objects.filter(pk=past.pk).update(viewer_count=viewers, like_count=likes)
    make_room(streamer, title="Tea ceremony, live from Hangzhou", location="Hangzhou")
    shoot(
        open_page,
        "/studio/",
        "studio",
        user=streamer,
        ready=lambda page: expect(page.locator(".status-pill")).to_have_text("Waiting for stream"),
    )
