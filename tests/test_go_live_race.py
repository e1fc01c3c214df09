"""The app's go-live report, sent many times at once (retries over a flaky network, two screens)."""

import pytest

from rooms.models import Room, RoomEvent

from .test_room_services import race

S = Room.Status


@pytest.mark.django_db(transaction=True)
def test_sixteen_go_live_reports_at_once_all_succeed_with_one_event(make_room, streamer, client_for):
    room = make_room(streamer)
    client_for(streamer)  # the token exists before the threads look it up

    def report():
        r = client_for(streamer).post(f"/api/v1/rooms/{room.pk}/live/")
        return r.status_code, r.json().get("status") or r.json()

    assert race(16, report) == [(200, "live")] * 16
    assert RoomEvent.objects.filter(room=room, new_status=S.LIVE).count() == 1
    room.refresh_from_db()
    assert room.status == S.LIVE
