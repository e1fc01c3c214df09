"""Bans that must hold: a long reason never breaks one, and an old Idempotency-Key does not get
a banned streamer a push URL."""

import pytest

from moderation.forms import BanForm
from moderation.models import RoomBan, StreamerBan
from rooms.models import Room

from .admin_actions import ROOMS, STREAMERS, run_action, shown_messages

pytestmark = pytest.mark.django_db
S = Room.Status
LONGEST_REASON = "R" * BanForm.base_fields["reason"].max_length


def test_a_room_ban_with_the_longest_reason_the_form_takes_applies(admin_as, moderator, live_room):
    r = run_action(admin_as(moderator), ROOMS, "ban_rooms", [live_room], reason=LONGEST_REASON, duration="24h")
    assert r.status_code == 200 and "Banned until" in shown_messages(r)[0]
    live_room.refresh_from_db()
    assert live_room.status == S.BANNED
    assert RoomBan.objects.get(room=live_room).reason == LONGEST_REASON
    assert live_room.events.last().reason == LONGEST_REASON  # the room's history keeps it whole


def test_a_streamer_ban_with_the_longest_reason_bans_their_open_room(admin_as, moderator, streamer, live_room):
    r = run_action(admin_as(moderator), STREAMERS, "ban_streamers", [streamer], reason=LONGEST_REASON, duration="7d")
    assert r.status_code == 200 and "Banned until" in shown_messages(r)[0]
    assert StreamerBan.objects.get(user=streamer).reason == LONGEST_REASON
    live_room.refresh_from_db()
    assert live_room.status == S.BANNED


def test_banned_streamer_replaying_an_old_idempotency_key_is_refused(streamer_api, streamer, moderator):
    from moderation import services

    opened = streamer_api.post("/api/v1/rooms/", {"title": "Show"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert opened.status_code == 201
    services.ban_streamer(streamer, moderator=moderator, reason="Fraud")

    r = streamer_api.post("/api/v1/rooms/", {"title": "Show"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert r.status_code == 403
    body = r.json()
    assert body["code"] == "streamer_banned" and body["reason"] == "Fraud"
    assert "push_url" not in body and "push_url" not in r.content.decode()
    assert Room.objects.filter(owner=streamer).count() == 1
