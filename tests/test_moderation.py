"""Moderation through the Django admin: the actions and their forms, the streamer ban seen by
the app, timed bans, permissions and the audit log. Cloud enforcement: test_moderation_cloud.py."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.utils import timezone

from moderation import services
from moderation.groups import MODERATORS, PERMISSIONS
from moderation.models import ModerationAction, RoomBan, StreamerBan
from rooms.models import Room

from . import xiaozhibo_client as xzb
from .admin_actions import ROOMS, STREAMERS, run_action, shown_messages

pytestmark = pytest.mark.django_db

AUDIT = "/admin/moderation/moderationaction/"
API_ROOMS = "/api/v1/rooms/"


def listed_ids(api):
    return [r["id"] for r in api.get(API_ROOMS).json()["results"]]


# --- rooms ------------------------------------------------------------------------------------


def test_moderator_bans_live_room_and_it_leaves_the_list(admin_as, moderator, live_room, api):
    assert listed_ids(api) == [live_room.pk]
    r = run_action(admin_as(moderator), ROOMS, "ban_rooms", [live_room], reason="Spam links", duration="24h")
    assert r.status_code == 200
    [message] = shown_messages(r)
    assert "Banned until" in message and f"(#{live_room.pk})" in message and "out of the list now" in message

    live_room.refresh_from_db()
    assert live_room.status == Room.Status.BANNED
    assert listed_ids(api) == []
    ban = RoomBan.objects.get(room=live_room)
    assert ban.reason == "Spam links" and ban.moderator == moderator and not ban.cloud_confirmed
    assert timedelta(hours=23, minutes=59) < ban.until - timezone.now() <= timedelta(hours=24)
    assert live_room.events.last().reason == "Spam links"


def test_ban_form_requires_a_reason(admin_as, moderator, live_room):
    client = admin_as(moderator)
    data = {"action": "ban_rooms", "_selected_action": [live_room.pk], "reason": "  ", "duration": "1h", "apply": "1"}
    r = client.post(ROOMS, data)
    assert r.status_code == 200
    assert b"This field is required." in r.content
    live_room.refresh_from_db()
    assert live_room.status == Room.Status.LIVE
    assert not ModerationAction.objects.exists()


def test_ban_form_offers_the_durations(admin_as, moderator, live_room):
    page = admin_as(moderator).post(ROOMS, {"action": "ban_rooms", "_selected_action": [live_room.pk]})
    for label in (b"1 hour", b"24 hours", b"7 days", b"30 days", b"Permanent"):
        assert label in page.content
    assert live_room.title.encode() in page.content


def test_permanent_ban_has_no_end(admin_as, moderator, live_room):
    r = run_action(admin_as(moderator), ROOMS, "ban_rooms", [live_room], reason="Abuse", duration="permanent")
    assert "Banned permanently" in shown_messages(r)[0]
    assert RoomBan.objects.get(room=live_room).until is None
    assert b'<td class="field-ban_end">permanent</td>' in admin_as(moderator).get(AUDIT).content


def test_banning_a_banned_room_changes_nothing_and_says_so(admin_as, moderator, live_room, make_room, make_user):
    other = make_room(make_user(), Room.Status.LIVE, title="Other")
    client = admin_as(moderator)
    run_action(client, ROOMS, "ban_rooms", [live_room], reason="first", duration="1h")
    r = run_action(client, ROOMS, "ban_rooms", [live_room, other], reason="second", duration="7d")
    success, warning = shown_messages(r)
    assert '"Other"' in success and "Already banned" in warning and f"#{live_room.pk}" in warning
    assert RoomBan.objects.get(room=live_room).reason == "first"
    assert ModerationAction.objects.filter(action="ban_room").count() == 2


def test_unban_lifts_the_ban_and_the_room_stays_banned(admin_as, moderator, live_room, api):
    client = admin_as(moderator)
    run_action(client, ROOMS, "ban_rooms", [live_room], reason="Spam", duration="7d")
    r = run_action(client, ROOMS, "unban_rooms", [live_room], reason="Appeal accepted")
    assert "Unbanned" in shown_messages(r)[0]
    ban = RoomBan.objects.get(room=live_room)
    assert ban.lifted_at is not None and ban.lifted_by == moderator and not ban.cloud_confirmed
    live_room.refresh_from_db()
    assert live_room.status == Room.Status.BANNED  # terminal: the streamer opens a new room
    assert listed_ids(api) == []


def test_unban_of_a_room_without_ban_says_so(admin_as, moderator, live_room):
    r = run_action(admin_as(moderator), ROOMS, "unban_rooms", [live_room])
    assert "Not under a ban" in shown_messages(r)[0]
    assert not ModerationAction.objects.exists()


def test_banned_room_may_be_banned_again_after_unban(moderator, live_room):
    services.ban_room(live_room, moderator=moderator, reason="one")
    services.unban_room(live_room, moderator=moderator)
    assert services.ban_room(live_room, moderator=moderator, reason="two") is not None
    assert RoomBan.objects.unlifted().get(room=live_room).reason == "two"


# --- streamers --------------------------------------------------------------------------------


def test_banned_streamer_cannot_open_room(admin_as, moderator, streamer, live_room, streamer_api):
    r = run_action(admin_as(moderator), STREAMERS, "ban_streamers", [streamer], reason="Hate speech", duration="7d")
    assert "Banned until" in shown_messages(r)[0] and "streamer" in shown_messages(r)[0]
    live_room.refresh_from_db()
    assert live_room.status == Room.Status.BANNED  # their open room went with them

    r = streamer_api.post(API_ROOMS, {"title": "Back again"}, format="json")
    assert r.status_code == 403
    body = r.json()
    ban = StreamerBan.objects.get(user=streamer)
    assert body["code"] == "streamer_banned"
    assert body["reason"] == "Hate speech" and "Hate speech" in body["detail"]
    assert body["until"] == ban.until.isoformat().replace("+00:00", "Z")
    assert Room.objects.filter(owner=streamer).count() == 1


def test_permanently_banned_streamer_gets_until_null(moderator, streamer, streamer_api):
    services.ban_streamer(streamer, moderator=moderator, reason="Fraud")
    body = streamer_api.post(API_ROOMS, {"title": "x"}, format="json").json()
    assert body["code"] == "streamer_banned" and body["until"] is None and "for good" in body["detail"]


def test_unbanned_streamer_can_open_rooms_again(admin_as, moderator, streamer, live_room, streamer_api):
    client = admin_as(moderator)
    run_action(client, STREAMERS, "ban_streamers", [streamer], reason="Spam", duration="30d")
    r = run_action(client, STREAMERS, "unban_streamers", [streamer], reason="Mistake")
    assert "Unbanned" in shown_messages(r)[0]
    assert streamer_api.post(API_ROOMS, {"title": "Back"}, format="json").status_code == 201
    room_ban = RoomBan.objects.get(room=live_room)
    assert room_ban.lifted_at is not None  # the stream is resumed at the cloud too


def test_banned_streamer_is_refused_through_the_xiaozhibo_protocol(client, settings, moderator):
    settings.XIAOZHIBO_COMPAT = True
    xzb.ok(client, xzb.request_lvb_addr("u_7"))
    anchor = Room.objects.get().owner
    services.ban_streamer(anchor, moderator=moderator, reason="Spam", until=timezone.now() + timedelta(days=7))
    envelope = xzb.error(client, xzb.request_lvb_addr("u_7"), 2003)
    assert "banned from streaming until" in envelope["returnMsg"] and "Spam" in envelope["returnMsg"]
    assert Room.objects.filter(owner=anchor).count() == 1


def test_streamer_list_shows_who_is_banned(admin_as, moderator, streamer, viewer):
    services.ban_streamer(streamer, moderator=moderator, reason="Spam", until=timezone.now() + timedelta(days=1))
    client = admin_as(moderator)
    page = client.get(STREAMERS, {"banned": "yes"})
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [streamer]
    assert b"Spam" in page.content
    assert list(client.get(STREAMERS, {"banned": "no"}).context["cl"].result_list) == [viewer]


def test_streamer_list_links_to_their_rooms(admin_as, moderator, streamer, live_room, make_room, make_user):
    make_room(make_user(), Room.Status.LIVE)
    client = admin_as(moderator)
    assert f"{ROOMS}?owner__id__exact={streamer.pk}".encode() in client.get(STREAMERS).content
    rooms = client.get(ROOMS, {"owner__id__exact": streamer.pk})
    assert list(rooms.context["cl"].result_list) == [live_room]


def test_room_page_links_the_owner_to_the_streamer_admin(admin_as, moderator, streamer, live_room):
    client = admin_as(moderator)
    page = client.get(f"{ROOMS}{live_room.pk}/change/")
    link = f"{STREAMERS}{streamer.pk}/change/"
    assert link.encode() in page.content
    streamer_page = client.get(link)
    assert streamer_page.status_code == 200 and b"Streamer Sam" in streamer_page.content


def test_staff_are_not_listed_as_streamers(admin_as, moderator, streamer):
    page = admin_as(moderator).get(STREAMERS)
    assert moderator not in page.context["cl"].result_list


# --- timed bans -------------------------------------------------------------------------------


def test_timed_bans_lift_themselves(moderator, streamer, live_room, streamer_api):
    until = timezone.now() + timedelta(hours=1)
    services.ban_streamer(streamer, moderator=moderator, reason="Cool down", until=until)
    assert streamer_api.post(API_ROOMS, {"title": "x"}, format="json").status_code == 403

    assert services.lift_expired_bans(now=until - timedelta(minutes=1)) == 0
    assert services.lift_expired_bans(now=until + timedelta(seconds=1)) == 2  # the streamer ban and the room ban
    assert not StreamerBan.objects.unlifted().exists() and not RoomBan.objects.unlifted().exists()
    expired = ModerationAction.objects.filter(moderator=None).values_list("action", flat=True)
    assert sorted(expired) == ["expire_room_ban", "expire_streamer_ban"]
    assert services.lift_expired_bans(now=until + timedelta(seconds=2)) == 0


def test_streamer_may_open_a_room_the_moment_the_ban_ends(moderator, streamer, streamer_api):
    ban = services.ban_streamer(streamer, moderator=moderator, reason="x", until=timezone.now() + timedelta(hours=1))
    StreamerBan.objects.filter(pk=ban.pk).update(until=timezone.now() - timedelta(seconds=1))
    assert streamer_api.post(API_ROOMS, {"title": "x"}, format="json").status_code == 201


# --- who may ban ------------------------------------------------------------------------------


@pytest.fixture
def support_staff(make_user):
    """Staff who may look at rooms but are not moderators."""
    user = make_user("support", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_room"))
    return user


def test_staff_outside_moderators_group_cannot_ban(admin_as, support_staff, live_room):
    client = admin_as(support_staff)
    page = client.get(ROOMS)
    assert page.status_code == 200
    assert b"ban_rooms" not in page.content  # the action is not offered
    data = {"action": "ban_rooms", "_selected_action": [live_room.pk], "reason": "x", "duration": "1h"}
    client.post(ROOMS, data)
    client.post(ROOMS, {**data, "apply": "1"})
    live_room.refresh_from_db()
    assert live_room.status == Room.Status.LIVE
    assert not RoomBan.objects.exists() and not ModerationAction.objects.exists()


def test_staff_outside_moderators_group_cannot_ban_streamers(admin_as, make_user, streamer):
    client = admin_as(make_user("intern", is_staff=True))
    assert client.get(STREAMERS).status_code == 403
    data = {"action": "ban_streamers", "_selected_action": [streamer.pk], "reason": "x", "duration": "1h"}
    assert client.post(STREAMERS, {**data, "apply": "1"}).status_code == 403
    assert not StreamerBan.objects.exists()


def test_moderators_group_has_exactly_the_moderation_permissions(moderator):
    group = Group.objects.get(name=MODERATORS)
    granted = set(group.permissions.values_list("content_type__app_label", "codename"))
    assert granted == set(PERMISSIONS)
    assert moderator.has_perm("moderation.ban_room") and not moderator.has_perm("rooms.change_room")
    assert not moderator.has_perm("accounts.change_user")


def test_demo_moderator_is_a_moderator(make_user):
    call_command("demo_accounts", stdout=open("/dev/null", "w"))  # noqa: SIM115
    from accounts.models import User

    demo = User.objects.get(username="moderator")
    assert demo.is_staff and demo.groups.filter(name=MODERATORS).exists()
    assert demo.has_perm("moderation.ban_room") and demo.has_perm("moderation.ban_streamer")


# --- the audit log ----------------------------------------------------------------------------


def test_every_action_leaves_one_audit_row(admin_as, moderator, streamer, live_room, make_room, make_user):
    other = make_room(make_user(), Room.Status.LIVE)
    client = admin_as(moderator)
    run_action(client, ROOMS, "ban_rooms", [other], reason="r1", duration="1h")
    run_action(client, ROOMS, "unban_rooms", [other], reason="r2")
    run_action(client, STREAMERS, "ban_streamers", [streamer], reason="r3", duration="permanent")
    run_action(client, STREAMERS, "unban_streamers", [streamer], reason="r4")
    rows = list(ModerationAction.objects.order_by("at", "id"))
    assert [(a.action, a.reason, a.moderator) for a in rows] == [
        ("ban_room", "r1", moderator),
        ("unban_room", "r2", moderator),
        ("ban_streamer", "r3", moderator),
        ("unban_streamer", "r4", moderator),
    ]
    assert rows[0].target_room == other and f"#{other.pk}" in rows[0].target
    assert rows[2].target_user == streamer and rows[2].until is None
    assert all(a.cloud_result == "pending" for a in rows)  # each asked the cloud for something


def test_audit_log_is_read_only_for_everyone(admin_as, moderator, django_user_model, live_room):
    services.ban_room(live_room, moderator=moderator, reason="x")
    row = ModerationAction.objects.get()
    root = django_user_model.objects.create_superuser("root", password="root-pass-123")
    for user in (moderator, root):
        client = admin_as(user)
        page = client.get(AUDIT)
        assert page.status_code == 200 and b"room #" in page.content
        assert client.get(f"{AUDIT}{row.pk}/change/").status_code == 200  # view only
        assert client.post(f"{AUDIT}{row.pk}/change/", {"reason": "edited"}).status_code == 403
        assert client.post(f"{AUDIT}{row.pk}/delete/", {"post": "yes"}).status_code == 403
        assert client.get(f"{AUDIT}add/").status_code == 403
    row.refresh_from_db()
    assert row.reason == "x" and ModerationAction.objects.count() == 1


def test_room_admin_shows_live_counts_before_they_are_flushed(admin_as, moderator, live_room, api):
    for _ in range(3):
        assert api.post(f"{API_ROOMS}{live_room.pk}/like/", {"count": 2}, format="json").status_code == 202
    api.post(f"{API_ROOMS}{live_room.pk}/join/")
    client = admin_as(moderator)
    [row] = client.get(ROOMS).context["cl"].result_list
    assert (row.viewer_count, row.like_count) == (1, 6)
    page = client.get(f"{ROOMS}{live_room.pk}/change/")
    assert page.context["original"].like_count == 6
