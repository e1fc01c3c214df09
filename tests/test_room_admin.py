"""The room admin goes through rooms.services like everything else: it edits a room's text,
never its state, deletes nothing, and shows a room's history without a query per event."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rooms import services
from rooms.models import Room, RoomEvent

pytestmark = pytest.mark.django_db
S = Room.Status
ROOMS = "/admin/rooms/room/"


def change_form(client, room, **changes):
    """The change form as the admin renders it for `room` (its inlines' management forms included), with `changes`."""
    page = client.get(f"{ROOMS}{room.pk}/change/").content.decode()
    data = {"title": room.title, "cover_url": room.cover_url, "location": room.location}
    for prefix in re.findall(r'name="([\w-]+)-TOTAL_FORMS"', page):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return {**data, **changes}


def test_a_posted_status_is_ignored_and_the_title_saved(admin_as, admin_user, live_room):
    client = admin_as(admin_user)
    r = client.post(f"{ROOMS}{live_room.pk}/change/", change_form(client, live_room, title="New", status="closed"))
    assert r.status_code == 302
    live_room.refresh_from_db()
    assert (live_room.title, live_room.status) == ("New", S.LIVE)
    assert list(live_room.events.values_list("new_status", flat=True)) == [S.LIVE]


def test_saving_a_title_does_not_undo_a_state_change_made_meanwhile(admin_as, admin_user, live_room, monkeypatch):
    """The stream ends (a callback) after the admin read the room and before it saves the new title."""
    from rooms.admin import RoomAdmin

    read = RoomAdmin.get_object

    def read_then_stream_ends(self, request, object_id, from_field=None):
        room = read(self, request, object_id, from_field)
        if request.method == "POST":
            services.mark_interrupted(Room.objects.get(pk=object_id), source=RoomEvent.Source.CALLBACK)
        return room

    client = admin_as(admin_user)
    form = change_form(client, live_room, title="New")
    monkeypatch.setattr(RoomAdmin, "get_object", read_then_stream_ends)
    r = client.post(f"{ROOMS}{live_room.pk}/change/", form)
    assert r.status_code == 302
    live_room.refresh_from_db()
    assert (live_room.title, live_room.status) == ("New", S.INTERRUPTED) and live_room.interrupted_at


def test_rooms_cannot_be_deleted_in_the_admin(admin_as, admin_user, live_room):
    client = admin_as(admin_user)
    assert client.get(f"{ROOMS}{live_room.pk}/delete/").status_code == 403
    assert client.post(f"{ROOMS}{live_room.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post(ROOMS, {"action": "delete_selected", "_selected_action": [live_room.pk], "post": "yes"})
    assert Room.objects.filter(pk=live_room.pk, status=S.LIVE).exists()
    page = client.get(f"{ROOMS}{live_room.pk}/change/").content.decode()
    assert f"{live_room.pk}/delete/" not in page
    assert "delete_selected" not in client.get(ROOMS).content.decode()


def change_page_queries(client, room):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"{ROOMS}{room.pk}/change/").status_code == 200
    return len(queries)


def test_the_event_history_costs_no_query_per_event(admin_as, admin_user, moderator, make_room, streamer):
    client = admin_as(admin_user)
    room = make_room(streamer, S.LIVE)
    few = change_page_queries(client, room)
    for _ in range(10):  # ten reconnects, each by someone
        services.mark_interrupted(room, source=RoomEvent.Source.CALLBACK)
        services.mark_live(room, source=RoomEvent.Source.ADMIN, actor=moderator)
    assert room.events.count() == 21
    assert change_page_queries(client, room) == few
