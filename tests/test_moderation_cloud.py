"""Bans enforced at the cloud: admin actions, then the enforcement task (called directly),
against the Tencent simulator over real HTTP."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

import livecloud
from livecloud import stream_urls
from moderation import services
from moderation.models import ModerationAction, RoomBan
from moderation.tasks import enforce_room_ban, lift_expired_bans, retry_unconfirmed_bans
from rooms import sweeper
from rooms.models import Room

from .admin_actions import ROOM_BANS, ROOMS, STREAMERS, run_action, shown_messages

pytestmark = pytest.mark.django_db


def resume_time(when):
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pushing(simulator, room):
    """The streamer's app pushes to the room's URL: the simulator's answer."""
    return simulator.publish(stream_urls.push_url(room.stream_id)[0])


def enforce(ban):
    assert enforce_room_ban(ban.pk) is True
    ban.refresh_from_db()
    return ban


@pytest.fixture
def on_air(simulator, live_room):
    assert pushing(simulator, live_room).status_code == 200
    assert simulator.state()["streams"][live_room.stream_id]["state"] == "active"
    return live_room


def test_ban_forbids_with_reason_and_resume_time_then_drops(simulator, admin_as, moderator, on_air, api):
    client = admin_as(moderator)
    run_action(client, ROOMS, "ban_rooms", [on_air], reason="Spam links", duration="24h")
    assert api.get("/api/v1/rooms/").json()["count"] == 0  # out of the list before the cloud is told
    ban = enforce(RoomBan.objects.get(room=on_air))

    forbid, drop = simulator.calls()
    assert forbid["action"] == "ForbidLiveStream" and drop["action"] == "DropLiveStream"
    assert forbid["params"]["StreamName"] == drop["params"]["StreamName"] == on_air.stream_id
    assert forbid["params"]["Reason"] == "Spam links"
    assert forbid["params"]["ResumeTime"] == resume_time(ban.until)
    state = simulator.state()["streams"][on_air.stream_id]
    assert state["state"] == "forbid"
    r = pushing(simulator, on_air)
    assert r.status_code == 403 and "forbidden" in r.json()["reason"]

    assert ban.cloud_confirmed and ban.cloud_forbidden_until == ban.until
    assert list(client.get(ROOM_BANS, {"cloud": "confirmed"}).context["cl"].result_list) == [ban]
    assert ModerationAction.objects.get().cloud_result == "confirmed"


def test_cloud_failure_never_undoes_the_ban_and_the_retry_confirms_it(simulator, admin_as, moderator, on_air, api):
    simulator.faults(api_error_rate=1.0)
    client = admin_as(moderator)
    run_action(client, ROOMS, "ban_rooms", [on_air], reason="Nudity", duration="7d")
    ban = RoomBan.objects.get(room=on_air)
    with pytest.raises(livecloud.CloudError):
        enforce_room_ban(ban.pk)  # called directly, a retryable failure is raised instead of retried

    on_air.refresh_from_db()
    assert on_air.status == Room.Status.BANNED and api.get("/api/v1/rooms/").json()["count"] == 0
    ban.refresh_from_db()
    assert not ban.cloud_confirmed and ban.cloud_attempts == 1 and "InternalError" in ban.cloud_error
    unconfirmed = client.get(ROOM_BANS, {"cloud": "unconfirmed"})
    assert list(unconfirmed.context["cl"].result_list) == [ban]
    assert b"InternalError" in unconfirmed.content
    assert ModerationAction.objects.get().cloud_result == "failed"

    simulator.faults(api_error_rate=0.0)
    ban = enforce(ban)
    assert ban.cloud_confirmed and ban.cloud_error == "" and ban.cloud_attempts == 2
    assert [c["action"] for c in simulator.calls() if c["result"] == "ok"][-2:] == [
        "ForbidLiveStream",
        "DropLiveStream",
    ]
    assert pushing(simulator, on_air).status_code == 403
    assert list(client.get(ROOM_BANS, {"cloud": "unconfirmed"}).context["cl"].result_list) == []
    assert ModerationAction.objects.get().cloud_result == "confirmed"


def test_beat_enforces_a_ban_whose_task_was_lost(simulator, moderator, on_air):
    ban = services.ban_room(on_air, moderator=moderator, reason="Spam")  # its queued task never ran
    assert retry_unconfirmed_bans() == {"renewed": 0, "confirmed": 0, "unconfirmed": 0}  # too soon to tell
    RoomBan.objects.filter(pk=ban.pk).update(cloud_updated_at=timezone.now() - timedelta(minutes=20))
    assert retry_unconfirmed_bans() == {"renewed": 0, "confirmed": 1, "unconfirmed": 0}
    assert pushing(simulator, on_air).status_code == 403


def test_admin_retries_unconfirmed_bans_on_demand(simulator, admin_as, moderator, on_air):
    simulator.faults(api_error_rate=1.0)
    client = admin_as(moderator)
    run_action(client, ROOMS, "ban_rooms", [on_air], reason="Spam", duration="1h")
    ban = RoomBan.objects.get(room=on_air)
    data = {"action": "retry_cloud", "_selected_action": [ban.pk]}
    r = client.post(ROOM_BANS, data, follow=True)
    assert "1 ban(s) still unconfirmed" in shown_messages(r)[0]
    simulator.faults(api_error_rate=0.0)
    r = client.post(ROOM_BANS, data, follow=True)
    assert "The cloud confirmed 1 ban(s)." in shown_messages(r)[0]
    ban.refresh_from_db()
    assert ban.cloud_confirmed and pushing(simulator, on_air).status_code == 403


def test_unban_resumes_the_stream(simulator, admin_as, moderator, on_air):
    client = admin_as(moderator)
    run_action(client, ROOMS, "ban_rooms", [on_air], reason="Spam", duration="30d")
    ban = enforce(RoomBan.objects.get(room=on_air))
    assert pushing(simulator, on_air).status_code == 403

    r = run_action(client, ROOMS, "unban_rooms", [on_air], reason="Appeal accepted")
    assert "Unbanned" in shown_messages(r)[0]
    ban = enforce(ban)
    assert simulator.calls()[-1]["action"] == "ResumeLiveStream"
    assert simulator.calls()[-1]["params"]["StreamName"] == on_air.stream_id
    assert simulator.state()["streams"][on_air.stream_id]["state"] != "forbid"
    assert pushing(simulator, on_air).status_code == 200
    assert ban.cloud_confirmed and ban.cloud_forbidden_until is None
    assert [a.cloud_result for a in ModerationAction.objects.order_by("id")] == ["confirmed", "confirmed"]


def test_timed_ban_expiry_resumes_the_stream(simulator, moderator, on_air):
    ban = enforce(
        services.ban_room(on_air, moderator=moderator, reason="Cool down", until=timezone.now() + timedelta(hours=1))
    )
    RoomBan.objects.filter(pk=ban.pk).update(until=timezone.now() - timedelta(seconds=1))  # an hour later
    assert lift_expired_bans() == 1
    ban = enforce(ban)
    assert simulator.calls()[-1]["action"] == "ResumeLiveStream"
    assert pushing(simulator, on_air).status_code == 200
    expiry = ModerationAction.objects.get(action="expire_room_ban")
    assert expiry.moderator is None and expiry.cloud_result == "confirmed"


def test_ban_lifted_before_the_cloud_heard_of_it_only_resumes(simulator, moderator, on_air):
    ban = services.ban_room(on_air, moderator=moderator, reason="Oops")
    services.unban_room(on_air, moderator=moderator)
    enforce(ban)  # the task queued by the ban runs after the unban
    assert [c["action"] for c in simulator.calls()] == ["ResumeLiveStream"]
    assert enforce_room_ban(ban.pk) is True  # the unban's own task: nothing left to do
    assert len(simulator.calls()) == 1


def test_permanent_ban_forbids_as_long_as_the_cloud_allows_and_renews(simulator, moderator, on_air):
    before = timezone.now()
    ban = enforce(services.ban_room(on_air, moderator=moderator, reason="Fraud"))
    sent = datetime.fromisoformat(simulator.calls("ForbidLiveStream")[0]["params"]["ResumeTime"])
    assert timedelta(days=88) < sent - before <= timedelta(days=89, seconds=1)  # Tencent's limit: 90 days
    assert ban.until is None and ban.cloud_forbidden_until is not None

    assert services.renew_cloud_forbids() == 0  # far from lapsing
    lapsing = timezone.now() + timedelta(hours=12)
    RoomBan.objects.filter(pk=ban.pk).update(cloud_forbidden_until=lapsing)
    assert services.renew_cloud_forbids() == 1
    ban = enforce(ban)
    assert len(simulator.calls("ForbidLiveStream")) == 2
    assert ban.cloud_forbidden_until - timezone.now() > timedelta(days=88)


def test_timed_ban_within_the_cloud_limit_is_not_renewed(simulator, moderator, on_air):
    enforce(services.ban_room(on_air, moderator=moderator, reason="x", until=timezone.now() + timedelta(hours=6)))
    assert services.renew_cloud_forbids(now=timezone.now() + timedelta(hours=5)) == 0


def test_streamer_ban_forbids_their_live_stream(simulator, admin_as, moderator, streamer, on_air):
    run_action(admin_as(moderator), STREAMERS, "ban_streamers", [streamer], reason="Hate speech", duration="7d")
    ban = enforce(RoomBan.objects.get(room=on_air))
    assert simulator.calls("ForbidLiveStream")[0]["params"]["Reason"] == "Hate speech"
    assert pushing(simulator, on_air).status_code == 403
    assert ModerationAction.objects.get(action="ban_streamer").cloud_result == "confirmed"

    run_action(admin_as(moderator), STREAMERS, "unban_streamers", [streamer])
    enforce(ban)
    assert simulator.calls()[-1]["action"] == "ResumeLiveStream"
    assert ModerationAction.objects.get(action="unban_streamer").cloud_result == "confirmed"


def test_legacy_backend_disables_and_enables_the_channel(simulator, moderator, on_air, settings):
    settings.LIVE_CLOUD = "legacy"
    ban = enforce(services.ban_room(on_air, moderator=moderator, reason="Spam"))
    assert pushing(simulator, on_air).status_code == 403
    services.unban_room(on_air, moderator=moderator)
    enforce(ban)
    assert pushing(simulator, on_air).status_code == 200
    channel = on_air.stream_id
    assert [c["params"] for c in simulator.calls("Live_Channel_SetStatus")] == [
        {"channel_id": channel, "status": "0"},  # disabled: cut and refused
        {"channel_id": channel, "status": "1"},  # enabled again
    ]


def test_sweeper_forbids_and_drops_a_banned_stream_found_online(simulator, moderator, on_air):
    ban = enforce(services.ban_room(on_air, moderator=moderator, reason="Spam"))
    livecloud.get_client().resume(on_air.stream_id)  # the cloud forgot the forbid (lapsed, console, ...)
    assert pushing(simulator, on_air).status_code == 200

    result = sweeper.sweep()
    assert result.reforbidden == 1
    ban.refresh_from_db()
    assert not ban.cloud_confirmed
    enforce(ban)
    assert [c["action"] for c in simulator.calls()][-2:] == ["ForbidLiveStream", "DropLiveStream"]
    assert simulator.state()["streams"][on_air.stream_id]["state"] == "forbid"
    assert sweeper.sweep().reforbidden == 0


def test_sweeper_leaves_a_lifted_bans_stream_alone(simulator, moderator, on_air):
    ban = enforce(services.ban_room(on_air, moderator=moderator, reason="Spam"))
    services.unban_room(on_air, moderator=moderator)
    enforce(ban)
    assert pushing(simulator, on_air).status_code == 200
    assert sweeper.sweep().reforbidden == 0
