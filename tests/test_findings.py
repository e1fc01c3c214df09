"""Finding violations (SPEC §8.1): viewers' reports, Tencent's moderation callbacks 317 / 315,
the moderation queue and the live wall in the admin."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.throttling import ScopedRateThrottle

from callbacks.models import CallbackEvent
from livecloud import stream_urls
from moderation import admin_findings
from moderation.models import Decision, Flag, ModerationAction, Report, RoomBan
from moderation.tasks import enforce_room_ban
from rooms.models import Room

from . import xiaozhibo_client as xzb
from .test_callbacks import PAYLOADS, post, signed

pytestmark = pytest.mark.django_db
QUEUE = "/admin/moderation/queuedroom/"
WALL = "/admin/moderation/wallroom/"
WALL_DATA = "/admin/moderation/wallroom/data/"


def report_url(room):
    return f"/api/v1/rooms/{room.pk}/report/"


def report(client, room, **body):
    return client.post(report_url(room), body or {"reason": "spam"}, format="json")


@pytest.fixture
def room(live_room):
    return live_room


@pytest.fixture
def make_user_api(make_user, client_for):
    """A signed-in API client of a new user, each call: another reporter."""
    return lambda: client_for(make_user())


def image_verdict(stream_id, *, suggestion="Block", label="Porn", at=None, **changes):
    """Tencent's sample body (no event_type, `streamId`, `socre`), signed and timed now."""
    body = json.loads((PAYLOADS / "image_moderation.json").read_text())
    at = at or int(timezone.now().timestamp())
    body.update(streamId=stream_id, channelId=stream_id, suggestion=suggestion, label=label, screenshotTime=at)
    body.update(changes)
    signed_body = signed("push", stream_id, event_time=at)  # only for its t and sign
    body.update(t=signed_body["t"], sign=signed_body["sign"])
    return body


def audio_verdict(stream_id, **changes):
    body = json.loads((PAYLOADS / "audio_moderation.json").read_text())
    body.pop("t", None)
    at = int(timezone.now().timestamp())
    s = signed("push", stream_id, event_time=at)
    body.update(stream_id=stream_id, channel_id=stream_id, event_time=at, t=s["t"], sign=s["sign"], **changes)
    return body


# --- reports -------------------------------------------------------------------------------------


def test_anyone_may_report_a_live_room_and_it_is_stored(api, room):
    r = report(api, room, reason="violence", detail="Fighting on stream")
    assert r.status_code == 202 and r.json() == {"counted": True}
    stored = Report.objects.get(room=room)
    assert (stored.reason, stored.detail, stored.reporter, stored.decision) == (
        "violence",
        "Fighting on stream",
        None,
        None,
    )
    assert stored.reporter_key == "addr:127.0.0.1"


def test_signed_in_reporter_is_recorded(viewer_api, viewer, room):
    assert report(viewer_api, room).status_code == 202
    assert Report.objects.get(room=room).reporter == viewer


@pytest.mark.parametrize(
    "body, field",
    [
        ({"reason": "boring"}, "reason"),
        ({}, "reason"),
        ({"reason": "spam", "detail": "x" * 501}, "detail"),
        ({"reason": "spam", "room": 3}, "room"),
        ({"reason": ["spam"]}, "reason"),
    ],
)
def test_bad_report_is_400_naming_the_field_and_stores_nothing(api, room, body, field):
    r = api.post(report_url(room), body, format="json")
    assert r.status_code == 400 and r.json()["code"] == "invalid"
    assert field in r.json()["fields"] and field in r.json()["detail"]
    assert not Report.objects.exists()


def test_repeats_within_an_hour_count_once_per_reporter(viewer_api, api, room):
    assert report(viewer_api, room, reason="spam").json() == {"counted": True}
    assert report(viewer_api, room, reason="hate").json() == {"counted": False}
    assert report(api, room).json() == {"counted": True}  # someone else: another report
    assert Report.objects.filter(room=room).count() == 2
    Report.objects.update(created_at=timezone.now() - timedelta(minutes=61))
    assert report(viewer_api, room).json() == {"counted": True}  # an hour later it counts again


@pytest.mark.parametrize(
    "status, code",
    [
        (Room.Status.CREATED, "room_not_live"),
        (Room.Status.INTERRUPTED, "room_not_live"),
        (Room.Status.CLOSED, "room_closed"),
        (Room.Status.BANNED, "room_banned"),
    ],
)
def test_reporting_a_room_not_live_is_409_as_for_join(api, make_room, streamer, status, code):
    room = make_room(streamer, status)
    r = report(api, room)
    assert r.status_code == 409 and r.json()["code"] == code
    assert api.post(f"/api/v1/rooms/{room.pk}/join/").json()["code"] == code
    assert not Report.objects.exists()


def test_a_report_costs_three_queries_and_two_redis_round_trips(api, room, redis_round_trips, make_room, make_user):
    """The room's row locked, the reporter's last hour looked up, the report written; the
    throttle's history read and written. (The test's own transaction adds savepoints.)"""

    def statements(captured):
        return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]

    report(api, make_room(make_user(), Room.Status.LIVE))  # opens the Redis connection
    redis_round_trips.clear()
    with CaptureQueriesContext(connection) as captured:
        assert report(api, room).status_code == 202
    assert len(statements(captured)) == 3 and len(redis_round_trips) == 2
    with CaptureQueriesContext(connection) as captured:
        assert report(api, room).json() == {"counted": False}
    assert len(statements(captured)) == 2  # a repeat writes nothing


def test_reporting_an_unknown_room_is_404(api):
    r = api.post("/api/v1/rooms/999999/report/", {"reason": "spam"}, format="json")
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_reports_are_throttled(api, room, make_room, make_user, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {**ScopedRateThrottle.THROTTLE_RATES, "report": "2/hour"})
    others = [make_room(make_user(), Room.Status.LIVE) for _ in range(2)]
    assert [report(api, r).status_code for r in [room, *others]] == [202, 202, 429]
    assert "Retry-After" in report(api, room)


def test_xiaozhibo_report_user_files_a_report_and_keeps_the_reporters_records(client, settings):
    settings.XIAOZHIBO_COMPAT = True
    xzb.ok(client, xzb.request_lvb_addr("u_host", groupid="@TGS#h"))
    xzb.ok(client, xzb.change_status("u_host", 0))
    xzb.ok(client, xzb.request_lvb_addr("u_viewer", groupid="@TGS#v"))  # the reporter streams too
    body = {"Action": "ReportUser", "userid": "u_viewer", "hostuserid": "u_host", "reason": "hate"}
    assert xzb.ok(client, body) == []
    assert xzb.ok(client, body) == []  # a repeat within the hour counts once
    stored = Report.objects.get()
    assert (stored.room.owner.username, stored.reason, stored.source) == ("xzb:u_host", "hate", "xiaozhibo")
    assert stored.reporter_key == "xzb:u_viewer"
    assert Room.objects.filter(owner__username="xzb:u_viewer", status=Room.Status.CREATED).exists()
    xzb.error(client, {**body, "reason": "boring"}, 4002)
    xzb.error(client, {**body, "hostuserid": "u_nobody"}, 2003)


# --- moderation callbacks ------------------------------------------------------------------------


def test_image_verdict_in_tencents_sample_shape_is_stored_as_a_flag(client, room):
    body = image_verdict(room.stream_id, suggestion="Review", label="Porn")
    assert "event_type" not in body and "stream_id" not in body and "socre" in body
    r = post(client, body)
    assert r.status_code == 200 and r.json() == {"code": 0}
    flag = Flag.objects.get(room=room)
    assert (flag.kind, flag.suggestion, flag.label, flag.sub_label) == ("image", "review", "Porn", "SexyBehavior")
    assert (flag.labels, flag.scores, flag.score) == (["1"], [96], 96)
    assert flag.image_url == body["img"] and flag.captured_at.timestamp() == body["screenshotTime"]
    logged = CallbackEvent.objects.get(kind=317)
    assert (logged.stream_id, logged.outcome) == (room.stream_id, CallbackEvent.Outcome.APPLIED)


def test_audio_verdict_is_stored_as_a_flag_with_its_text(client, room):
    assert post(client, audio_verdict(room.stream_id)).status_code == 200
    flag = Flag.objects.get(room=room)
    assert (flag.kind, flag.suggestion, flag.label, flag.score) == ("audio", "review", "Ad", 88)
    assert flag.text == "buy followers now at this link"


def test_redelivered_verdict_is_stored_once(client, room):
    body = image_verdict(room.stream_id, suggestion="Review")
    assert post(client, body).status_code == 200
    again = {**body, "sendTime": body["sendTime"] + 60}  # a retry a minute later, same frame
    assert post(client, again).status_code == 200
    assert Flag.objects.count() == 1
    assert CallbackEvent.objects.filter(outcome=CallbackEvent.Outcome.DUPLICATE).count() == 1
    later = image_verdict(room.stream_id, suggestion="Review", at=body["screenshotTime"] + 10)
    assert post(client, later).status_code == 200
    assert Flag.objects.count() == 2  # another frame
    audio = audio_verdict(room.stream_id)
    assert [post(client, audio).status_code for _ in range(2)] == [200, 200]
    assert Flag.objects.filter(kind="audio").count() == 1


@pytest.mark.parametrize(
    "change, status, code",
    [
        ({"sign": None, "t": None}, 400, "missing_fields"),
        ({"sign": "0" * 32}, 403, "bad_sign"),
    ],
)
def test_unsigned_or_badly_signed_verdict_is_refused(client, room, change, status, code):
    body = {k: v for k, v in {**image_verdict(room.stream_id), **change}.items() if v is not None}
    r = post(client, body)
    assert r.status_code == status and r.json()["code"] == code
    assert not Flag.objects.exists()


def test_stale_verdict_is_refused(client, room):
    at = int(timezone.now().timestamp()) - 3600
    r = post(client, image_verdict(room.stream_id, at=at))
    assert r.status_code == 403 and r.json()["code"] == "expired"
    stale = {**audio_verdict(room.stream_id), "t": at, "sign": signed("push", "x", t=at)["sign"]}
    r = post(client, stale)
    assert r.status_code == 403 and r.json()["code"] == "expired"
    assert not Flag.objects.exists()


def test_pass_is_stored_only_and_review_and_block_queue_the_room(
    client, room, make_room, make_user, admin_as, moderator
):
    passed, reviewed, blocked = room, make_room(make_user(), Room.Status.LIVE), make_room(make_user(), Room.Status.LIVE)
    for target, suggestion in ((passed, "Pass"), (reviewed, "Review"), (blocked, "Block")):
        assert post(client, image_verdict(target.stream_id, suggestion=suggestion)).status_code == 200
    assert Flag.objects.count() == 3
    page = admin_as(moderator).get(QUEUE)
    assert [row["id"] for row in page.context["rows"]] == [blocked.pk, reviewed.pk]
    assert not RoomBan.objects.exists()  # AUTO_BAN_ON_BLOCK is off by default


def test_block_bans_at_once_when_auto_ban_is_on_and_cuts_the_stream(client, room, simulator, settings):
    settings.AUTO_BAN_ON_BLOCK = True
    assert simulator.publish(stream_urls.push_url(room.stream_id)[0]).status_code == 200
    assert post(client, image_verdict(room.stream_id, suggestion="Review")).status_code == 200
    assert not RoomBan.objects.exists()  # Review never bans
    assert (
        post(
            client, image_verdict(room.stream_id, suggestion="Block", at=int(timezone.now().timestamp()) + 1)
        ).status_code
        == 200
    )

    room.refresh_from_db()
    assert room.status == Room.Status.BANNED
    ban = RoomBan.objects.get(room=room)
    assert ban.moderator is None and "Porn" in ban.reason
    audit = ModerationAction.objects.get(action=ModerationAction.Kind.BAN_ROOM)
    assert audit.moderator is None and audit.target_room == room
    decision = Decision.objects.get(room=room)
    assert (decision.outcome, decision.moderator, decision.flags) == ("banned", None, 2)

    assert enforce_room_ban(ban.pk) is True  # the task queued on commit
    assert [c["action"] for c in simulator.calls()] == ["ForbidLiveStream", "DropLiveStream"]
    assert simulator.state()["streams"][room.stream_id]["state"] == "forbid"


def test_simulator_sends_moderation_verdicts_to_the_app(live_simulator, live_room):
    assert live_simulator.publish(stream_urls.push_url(live_room.stream_id)[0]).status_code == 200
    r = live_simulator.moderation(live_room.stream_id, suggestion="Review", label="Violence", score=77)
    assert r.status_code == 200 and r.json()["callbacks"][0]["results"] == [200]
    r = live_simulator.moderation(live_room.stream_id, suggestion="Pass", kind="audio")
    assert r.status_code == 200
    audio, image = Flag.objects.order_by("kind")
    assert (audio.kind, audio.suggestion) == ("audio", "pass")
    assert (image.kind, image.suggestion, image.label, image.score) == ("image", "review", "Violence", 77)
    assert live_simulator.moderation(live_room.stream_id, suggestion="Maybe").status_code == 400
    assert live_simulator.moderation(live_room.stream_id, suggestion="Block", score=101).status_code == 400
    assert live_simulator.moderation("8888_unknown", suggestion="Block").status_code == 404


# --- queue: ban and dismiss resolve ------------------------------------------------------------


def test_queue_orders_by_risk_and_shows_reasons(client, api, make_room, make_user, admin_as, moderator, make_user_api):
    rooms = [make_room(make_user(), Room.Status.LIVE, title=f"Room {i}") for i in range(4)]
    few, many, reviewed, blocked = rooms
    report(api, few, reason="spam")
    for i in range(3):
        report(make_user_api(), many, reason="hate" if i else "spam")
    post(client, image_verdict(reviewed.stream_id, suggestion="Review", label="Violence"))
    post(client, image_verdict(blocked.stream_id, suggestion="Block", label="Porn"))
    page = admin_as(moderator).get(QUEUE)
    rows = page.context["rows"]
    assert [row["id"] for row in rows] == [blocked.pk, reviewed.pk, many.pk, few.pk]
    assert rows[2]["reasons"] == ["Hate or harassment ×2", "Spam or scam ×1"]
    assert rows[0]["labels"] == ["Porn"] and rows[0]["blocks"] == 1
    assert b"Hate or harassment \xc3\x972" in page.content


def test_ban_from_the_queue_prefills_the_top_reason_and_resolves(api, room, admin_as, moderator, make_user_api):
    for reason in ("spam", "hate", "hate"):
        report(make_user_api(), room, reason=reason)
    Report.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    client = admin_as(moderator)
    form = client.get(f"{QUEUE}{room.pk}/ban/")
    assert form.status_code == 200
    assert form.context["form"].initial["reason"] == "Reported by viewers: Hate or harassment."
    r = client.post(f"{QUEUE}{room.pk}/ban/", {"reason": "Hate speech", "duration": "7d"}, follow=True)
    assert r.redirect_chain[-1][0] == QUEUE and r.context["rows"] == []
    room.refresh_from_db()
    assert room.status == Room.Status.BANNED
    decision = Decision.objects.get(room=room)
    assert (decision.outcome, decision.moderator, decision.reports) == ("banned", moderator, 3)
    assert timedelta(minutes=9) < decision.time_to_decision < timedelta(minutes=11)
    assert decision.action.action == ModerationAction.Kind.BAN_ROOM and decision.action.reason == "Hate speech"
    assert not Report.objects.filter(decision__isnull=True).exists()


def test_dismiss_resolves_reports_and_flags_and_is_audited(client, api, room, admin_as, moderator, make_user_api):
    report(api, room)
    post(client, image_verdict(room.stream_id, suggestion="Review"))
    admin = admin_as(moderator)
    r = admin.post(f"{QUEUE}{room.pk}/dismiss/", follow=True)
    assert r.context["rows"] == [] and "Dismissed 1 report(s) and 1 flag(s)" in r.content.decode()
    decision = Decision.objects.get(room=room)
    assert (decision.outcome, decision.moderator, decision.reports, decision.flags) == ("dismissed", moderator, 1, 1)
    audit = ModerationAction.objects.get(action=ModerationAction.Kind.DISMISS)
    assert audit.moderator == moderator and audit.target_room == room and audit.cloud_result == "none"
    assert b"Dismiss reports and flags" in admin.get("/admin/moderation/moderationaction/").content
    room.refresh_from_db()
    assert room.status == Room.Status.LIVE
    assert "had nothing open" in admin.post(f"{QUEUE}{room.pk}/dismiss/", follow=True).content.decode()
    assert Decision.objects.count() == 1
    assert admin.get(f"{QUEUE}{room.pk}/dismiss/").status_code == 405
    report(make_user_api(), room, reason="minor")  # a new report after the decision opens the room again
    assert [row["id"] for row in admin.get(QUEUE).context["rows"]] == [room.pk]


def test_ban_from_the_rooms_admin_resolves_open_signals_too(api, room, moderator):
    from moderation import services

    report(api, room)
    services.ban_room(room, moderator=moderator, reason="Spam")
    assert Decision.objects.get(room=room).outcome == "banned"


# --- the wall ------------------------------------------------------------------------------------


def test_wall_tiles_show_snapshot_then_cover_then_placeholder(admin_as, moderator, make_room, make_user, api, client):
    snap = make_room(make_user(), Room.Status.LIVE, title="Snap", cover_url="https://img.example.com/c.jpg")
    Room.objects.filter(pk=snap.pk).update(snapshot_url="http://sim.example.com/s.jpg")
    cover = make_room(make_user(), Room.Status.LIVE, title="Cover", cover_url="https://img.example.com/c.jpg")
    bare = make_room(make_user(), Room.Status.LIVE, title="Bare")
    make_room(make_user(), Room.Status.CLOSED, title="Gone")
    report(api, bare)
    post(client, image_verdict(cover.stream_id, suggestion="Block"))
    data = admin_as(moderator).get(WALL_DATA).json()
    tiles = {t["title"]: t for t in data["tiles"]}
    assert set(tiles) == {"Snap", "Cover", "Bare"} and data["count"] == 3
    assert tiles["Snap"]["picture"] == "http://sim.example.com/s.jpg"
    assert tiles["Cover"]["picture"] == "https://img.example.com/c.jpg" and tiles["Cover"]["blocks"] == 1
    assert tiles["Bare"]["picture"] == "" and tiles["Bare"]["reports"] == 1
    assert tiles["Bare"]["admin_url"] == f"/admin/rooms/room/{bare.pk}/change/"
    assert tiles["Bare"]["ban_url"] == f"{QUEUE}{bare.pk}/ban/"
    page = admin_as(moderator).get(WALL)
    assert page.status_code == 200 and b'src="http://sim.example.com/s.jpg"' in page.content


def test_room_admin_page_lists_its_reports_and_flags(admin_as, moderator, api, client, room):
    report(api, room, reason="minor", detail="Looks about twelve")
    post(client, image_verdict(room.stream_id, suggestion="Review", label="Porn"))
    page = admin_as(moderator).get(f"/admin/rooms/room/{room.pk}/change/").content.decode()
    assert "Looks about twelve" in page and "Porn" in page


def test_one_click_ban_from_the_wall(admin_as, moderator, live_room):
    r = admin_as(moderator).post(f"{QUEUE}{live_room.pk}/ban/", {"quick": "1", "next": WALL}, follow=True)
    assert r.redirect_chain[-1][0] == WALL
    ban = RoomBan.objects.get(room=live_room)
    assert ban.moderator == moderator and ban.reason == "Violation seen on the live wall."
    assert timedelta(hours=23) < ban.until - timezone.now() <= timedelta(hours=24)


def test_just_started_marks_first_time_streamers(admin_as, moderator, make_room, make_user):
    veteran, newcomer = make_user(), make_user()
    old = make_room(veteran, Room.Status.LIVE, title="Earlier show")
    Room.objects.filter(pk=old.pk).update(started_at=timezone.now() - timedelta(days=2))
    make_room(veteran, Room.Status.LIVE, title="Veteran")  # replaces (closes) the earlier room
    make_room(newcomer, Room.Status.LIVE, title="Newcomer")
    long_on = make_room(make_user(), Room.Status.LIVE, title="Long on")
    Room.objects.filter(pk=long_on.pk).update(started_at=timezone.now() - timedelta(minutes=31))
    tiles = admin_as(moderator).get(WALL_DATA, {"just_started": "1"}).json()["tiles"]
    assert {t["title"]: t["first_time"] for t in tiles} == {"Veteran": False, "Newcomer": True}
    page = admin_as(moderator).get(WALL, {"just_started": "1"})
    assert page.content.count(b"First time</span>") == 1


def test_wall_costs_the_same_queries_whatever_the_page_holds(
    admin_as, moderator, make_room, make_user, api, monkeypatch, redis_round_trips
):
    """Session, user, the user's and the groups' permissions, the count, the page's rooms (with
    their owners), their open reports and their open flags: 8, however many rooms and which page."""
    monkeypatch.setattr(admin_findings, "WALL_PAGE_SIZE", 8)
    client = admin_as(moderator)
    make_room(make_user(), Room.Status.LIVE)
    client.get(WALL_DATA)  # the first request warms what is cached per process

    def queries(url, **params):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, params).status_code == 200
        return len(captured)

    few = queries(WALL_DATA), queries(WALL)
    rooms = [make_room(make_user(), Room.Status.LIVE) for _ in range(20)]
    for room in rooms[::3]:
        report(api, room)
    many = queries(WALL_DATA), queries(WALL), queries(WALL_DATA, page=2), queries(WALL_DATA, just_started=1)
    assert few == (WALL_QUERIES, WALL_QUERIES)
    assert many == (WALL_QUERIES,) * 4
    redis_round_trips.clear()
    client.get(WALL_DATA, {"page": 2})
    assert len(redis_round_trips) == WALL_REDIS_ROUND_TRIPS  # the page's live counts


WALL_QUERIES = 8
WALL_REDIS_ROUND_TRIPS = 1


# --- who sees what -------------------------------------------------------------------------------


def test_plain_staff_see_neither_queue_nor_wall(admin_as, make_user, live_room):
    staff = make_user("clerk", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_room"))
    client = admin_as(staff)
    for url in (QUEUE, WALL, WALL_DATA, f"{QUEUE}{live_room.pk}/ban/"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"{QUEUE}{live_room.pk}/dismiss/").status_code == 403
    index = client.get("/admin/").content
    assert b"Moderation queue" not in index and b"Live wall" not in index
    assert not RoomBan.objects.exists()


def test_moderators_find_queue_and_wall_on_the_admin_index(admin_as, moderator):
    index = admin_as(moderator).get("/admin/").content
    assert b'href="/admin/moderation/queuedroom/"' in index and b'href="/admin/moderation/wallroom/"' in index
    assert b"Moderation queue" in index and b"Live wall" in index


def test_staff_who_may_view_the_queue_but_not_ban_get_no_ban_buttons(admin_as, make_user, api, live_room):
    staff = make_user("watcher", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_queuedroom"))
    report(api, live_room)
    client = admin_as(staff)
    rows = client.get(QUEUE).context["rows"]
    assert rows[0]["ban_url"] == "" and rows[0]["dismiss_url"] == ""
    assert client.post(f"{QUEUE}{live_room.pk}/ban/", {"quick": "1"}).status_code == 403


# --- the public side -----------------------------------------------------------------------------


def test_list_cards_fall_back_to_the_latest_snapshot_without_a_cover(client, api, make_room, make_user):
    bare = make_room(make_user(), Room.Status.LIVE, title="Bare")
    covered = make_room(make_user(), Room.Status.LIVE, title="Covered", cover_url="https://img.example.com/c.jpg")
    Room.objects.filter(pk__in=[bare.pk, covered.pk]).update(snapshot_url="http://sim.example.com/frame.jpg")
    page = client.get("/").content.decode()
    assert page.count('src="http://sim.example.com/frame.jpg"') == 1 and 'src="https://img.example.com/c.jpg"' in page
    listed = {r["title"]: r for r in api.get("/api/v1/rooms/").json()["results"]}
    assert listed["Bare"]["snapshot_url"] == "http://sim.example.com/frame.jpg"  # live_list.js falls back to it


def test_watch_page_offers_the_report_control_with_every_reason(client, live_room):
    page = client.get(f"/rooms/{live_room.pk}/").content.decode()
    assert "data-report-open" in page and "js/report.js" in page
    for value, _ in Report.Reason.choices:
        assert f'name="reason" value="{value}"' in page
