"""The server-rendered side of the web pages (their JavaScript is covered in tests/browser/)."""

import pytest
from django.core.management import call_command
from django.test import Client

from rooms.models import Room
from rooms.templatetags.room_extras import compact

pytestmark = pytest.mark.django_db
S = Room.Status


@pytest.fixture
def client():
    return Client()


def test_live_list_renders_the_first_page_of_live_rooms(client, make_room, make_user):
    older = make_room(make_user(), S.LIVE, title="Older live show")
    newer = make_room(make_user(), S.LIVE, title="Newer live show")
    make_room(make_user(), S.CREATED, title="Not live yet")
    make_room(make_user(), S.CLOSED, title="Already over")

    page = client.get("/").content.decode()

    assert page.index("Newer live show") < page.index("Older live show")
    assert "Not live yet" not in page and "Already over" not in page
    assert f'data-room-id="{newer.pk}"' in page and f'href="/rooms/{older.pk}/"' in page
    assert 'data-next-url=""' in page


@pytest.mark.parametrize("ordering", ["-started_at", "-like_count"])
def test_live_list_pages_and_orders_like_the_api(client, api, make_room, make_user, ordering):
    rooms = [make_room(make_user(), S.LIVE, title=f"Show {n}") for n in range(3)]
    Room.objects.filter(pk=rooms[1].pk).update(like_count=99)

    page = client.get(f"/?ordering={ordering}&page_size=2").content.decode()
    first = api.get("/api/v1/rooms/", {"ordering": ordering, "page_size": 2}).json()

    shown = ["Show 2", "Show 1"] if ordering == "-started_at" else ["Show 1", "Show 2"]
    assert page.index(shown[0]) < page.index(shown[1]) and "Show 0" not in page
    # "Load more" follows the API's own `next` cursor (the same link, so the same cached page)
    next_path = first["next"].removeprefix("http://testserver").replace("&", "&amp;")
    assert "cursor=" in next_path and f'data-next-url="{next_path}"' in page
    assert [room["id"] for room in api.get(first["next"]).json()["results"]] == [rooms[0].pk]


@pytest.mark.parametrize("ordering", ["-started_at", "-viewer_count", "-like_count"])
def test_live_list_shows_the_same_rooms_in_the_same_order_as_the_api(client, api, make_room, make_user, ordering):
    for n in range(5):
        room = make_room(make_user(), S.LIVE, title=f"Show {n}")
        Room.objects.filter(pk=room.pk).update(viewer_count=(n * 7) % 5, like_count=(n * 3) % 4)

    page = client.get(f"/?ordering={ordering}&page_size=4").content.decode()
    api_ids = [room["id"] for room in api.get(f"/api/v1/rooms/?ordering={ordering}&page_size=4").json()["results"]]

    page_ids = [part.split('"', 1)[0] for part in page.split('data-room-id="')[1:]]
    assert page_ids == [str(pk) for pk in api_ids] + [""]  # the last is the page's <template> card


def test_live_list_ignores_unknown_query_values(client, live_room):
    response = client.get("/?ordering=title&page_size=abc")
    assert response.status_code == 200
    assert "Evening show" in response.content.decode()


def test_live_list_empty_state(client):
    page = client.get("/").content.decode()
    assert "Nobody is live right now" in page
    assert "data-empty hidden" not in page


def test_watch_page_of_a_live_room(client, live_room):
    page = client.get(f"/rooms/{live_room.pk}/").content.decode()
    assert "Evening show" in page and "Streamer Sam" in page
    assert f'data-hls-url="http://{live_room.stream_id}' not in page
    assert f"/live/{live_room.stream_id}.m3u8" in page
    assert "vendor/hls.js/hls.min.js" in page


@pytest.mark.parametrize("status", [S.CREATED, S.INTERRUPTED, S.CLOSED, S.BANNED])
def test_watch_page_of_a_room_not_live_is_404_for_others(client, make_room, streamer, viewer, status):
    room = make_room(streamer, status)
    assert client.get(f"/rooms/{room.pk}/").status_code == 404
    client.force_login(viewer)
    assert client.get(f"/rooms/{room.pk}/").status_code == 404
    client.force_login(streamer)
    assert client.get(f"/rooms/{room.pk}/").status_code == 200


def test_unknown_room_is_a_friendly_404(client):
    response = client.get("/rooms/999999/")
    assert response.status_code == 404
    assert "See who is live" in response.content.decode()


def test_studio_needs_login(client):
    response = client.get("/studio/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/studio/"


def test_studio_shows_the_open_room_with_a_push_url(client, make_room, streamer, settings):
    room = make_room(streamer, title="Tonight")
    client.force_login(streamer)
    response = client.get("/studio/")
    page = response.content.decode()
    assert "Tonight" in page
    assert f"rtmp://{settings.TENCENT_LIVE_PUSH_DOMAIN}/live/{room.stream_id}?txSecret=" in page
    assert "no-cache" in response["Cache-Control"]


def test_studio_without_a_room_offers_to_open_one(client, make_room, streamer):
    make_room(streamer, S.CLOSED, title="Last week")
    client.force_login(streamer)
    page = client.get("/studio/").content.decode()
    assert "Open a room" in page and "Earlier rooms" in page and "Last week" in page
    assert "txSecret" not in page


def test_log_in_and_out(client, streamer):
    response = client.post("/login/", {"username": "streamer", "password": "s3cret-pass-123"})
    assert response.status_code == 302 and response["Location"] == "/studio/"
    assert client.get("/studio/").status_code == 200

    assert "Log out?" in client.get("/logout/").content.decode()
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/studio/").status_code == 302


def test_wrong_password_is_refused(client, streamer):
    response = client.post("/login/", {"username": "streamer", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_collected_static_files_are_served_by_the_app(settings, tmp_path):
    """What gunicorn serves after `collectstatic`: WhiteNoise, without Django's finders."""
    settings.STATIC_ROOT = tmp_path
    settings.WHITENOISE_USE_FINDERS = False
    settings.WHITENOISE_AUTOREFRESH = False
    call_command("collectstatic", "--noinput", "-v", "0", "-i", "admin", "-i", "rest_framework", "-i", "drf_*")

    response = Client().get("/static/vendor/hls.js/hls.min.js", HTTP_ACCEPT_ENCODING="gzip")

    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert response["Content-Type"].startswith("text/javascript")


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0"), (999, "999"), (1000, "1K"), (1234, "1.2K"), (99_999, "100K"), (123_456, "123K"), (2_500_000, "2.5M")],
)
def test_compact_counts(value, text):
    assert compact(value) == text


@pytest.mark.parametrize(
    ("status", "state"),
    [(S.LIVE, "live"), (S.INTERRUPTED, "interrupted"), (S.CLOSED, "ended"), (S.BANNED, "ended")],
)
def test_watch_state_tells_a_pause_from_the_end(client, make_room, streamer, status, state):
    room = make_room(streamer, status)
    client.force_login(streamer)  # viewers learn it through their watch page's key (test_watch_state)
    assert client.get(f"/rooms/{room.pk}/state/").json() == {"state": state}


def test_watch_state_of_a_room_never_live_is_404(client, make_room, streamer):
    assert client.get(f"/rooms/{make_room(streamer).pk}/state/").status_code == 404
