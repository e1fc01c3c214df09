"""The operator page (staff only) and stream health in the room admin."""

import pytest

from livecloud import stream_urls
from monitoring import health
from rooms import sweeper
from rooms.models import Room

pytestmark = pytest.mark.django_db


def test_operator_page_is_for_staff_only(client, make_user, viewer):
    assert client.get("/admin/operations/").status_code == 302  # to the admin login
    client.force_login(viewer)
    response = client.get("/admin/operations/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_operator_page_shows_the_figures(client, make_user, simulator, make_room, streamer):
    staff = make_user("ops", is_staff=True)  # staff with no permissions at all still sees it
    room = make_room(streamer, Room.Status.LIVE, title="Harbour lights")
    simulator.publish(stream_urls.push_url(room.stream_id)[0])
    simulator._post(f"/sim/streams/{room.stream_id}/health", {"fps": 8})
    health.check()
    sweeper.sweep()
    simulator.faults(api_error_rate=1.0)
    sweeper.sweep()
    client.force_login(staff)
    assert 'href="/admin/monitoring/operations/"' in client.get("/admin/").content.decode()
    assert client.get("/admin/monitoring/operations/")["Location"] == "/admin/operations/"
    page = client.get("/admin/operations/?partial=1")
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    f = page.context["f"]
    assert (f["live"], f["degraded"], f["cloud_errors"]) == (1, 1, 1)
    assert f["sweep"]["cloud_error"] and f["sweep"]["ago"] < 5
    assert "Harbour lights" in page.content.decode()


def test_moderators_see_stream_health_in_the_room_admin(client, moderator, simulator, live_room):
    simulator.publish(stream_urls.push_url(live_room.stream_id)[0])
    simulator._post(f"/sim/streams/{live_room.stream_id}/health", {"fps": 12, "kbps": 900})
    health.check()
    client.force_login(moderator)
    page = client.get(f"/admin/rooms/room/{live_room.pk}/change/").content.decode()
    assert "Stream health" in page and "low_fps" in page and "900" in page
