"""POST /callbacks/tencent/ with bodies shaped like Tencent's documented examples."""

import hashlib
import json
import time
from pathlib import Path

import pytest

from callbacks.models import CallbackEvent
from rooms.models import Recording, Room, RoomEvent

pytestmark = pytest.mark.django_db

URL = "/callbacks/tencent/"
PAYLOADS = Path(__file__).parent / "callback_payloads"
S = Room.Status
Outcome = CallbackEvent.Outcome


def signed(name, stream_id, *, event_time=None, t=None, key=None, **changes):
    """A documented example body for `stream_id`, with fresh times and a valid sign."""
    from django.conf import settings

    body = json.loads((PAYLOADS / f"{name}.json").read_text())
    event_time = event_time or int(time.time())
    body.update(stream_id=stream_id, channel_id=stream_id)
    for field in ("event_time", "create_time"):
        if field in body:
            body[field] = event_time
    if "end_time" in body:
        body.update(start_time=event_time - body["duration"], end_time=event_time)
    body.update(changes)
    body["t"] = t if t is not None else event_time + 600
    body["sign"] = hashlib.md5(f"{key or settings.TENCENT_LIVE_CALLBACK_KEY}{body['t']}".encode()).hexdigest()
    return body


def post(client, body):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json")


def room_events(room):
    return list(RoomEvent.objects.filter(room=room).values_list("old_status", "new_status", "source"))


@pytest.fixture
def room(make_room, streamer):
    return make_room(streamer)


# --- the four event types ------------------------------------------------------------------------


def test_push_callback_puts_room_in_the_list(client, room):
    r = post(client, signed("push", room.stream_id, sequence="111"))
    assert r.status_code == 200 and r.json() == {"code": 0}
    room.refresh_from_db()
    assert room.status == S.LIVE and room.push_sequence == "111"
    assert room_events(room) == [(S.CREATED, S.LIVE, "callback")]
    listed = client.get("/api/v1/rooms/").json()["results"]
    assert [r["id"] for r in listed] == [room.pk]


def test_stream_end_interrupts_the_room(client, room):
    post(client, signed("push", room.stream_id, sequence="111"))
    r = post(client, signed("stream_end", room.stream_id, sequence="111"))
    assert r.status_code == 200
    room.refresh_from_db()
    assert room.status == S.INTERRUPTED and room.interrupted_at
    assert client.get("/api/v1/rooms/").json()["results"] == []


def test_reconnect_within_the_window_goes_live_again_keeping_started_at(client, room):
    now = int(time.time())
    post(client, signed("push", room.stream_id, sequence="111", event_time=now - 20))
    started_at = Room.objects.get(pk=room.pk).started_at
    post(client, signed("stream_end", room.stream_id, sequence="111", event_time=now - 10))
    post(client, signed("push", room.stream_id, sequence="222", event_time=now))
    room.refresh_from_db()
    assert room.status == S.LIVE and room.push_sequence == "222" and room.started_at == started_at


def test_stream_end_for_an_older_push_sequence_is_ignored(client, room):
    now = int(time.time())
    post(client, signed("push", room.stream_id, sequence="111", event_time=now - 5))
    post(client, signed("push", room.stream_id, sequence="222", event_time=now - 4))  # replaced push
    r = post(client, signed("stream_end", room.stream_id, sequence="111", event_time=now - 3))
    assert r.status_code == 200 and r.json() == {"code": 0}
    room.refresh_from_db()
    assert room.status == S.LIVE and room.push_sequence == "222"
    assert CallbackEvent.objects.filter(kind=0).get().outcome == Outcome.NO_CHANGE


def test_push_older_than_the_last_applied_event_is_ignored(client, room):
    now = int(time.time())
    post(client, signed("push", room.stream_id, sequence="111", event_time=now - 10))
    post(client, signed("stream_end", room.stream_id, sequence="111", event_time=now))
    post(client, signed("push", room.stream_id, sequence="000", event_time=now - 30))  # delivered late
    room.refresh_from_db()
    assert room.status == S.INTERRUPTED


def test_push_arriving_after_its_own_stream_end_is_ignored(client, room):
    now = int(time.time())
    post(client, signed("stream_end", room.stream_id, sequence="111", event_time=now))
    post(client, signed("push", room.stream_id, sequence="111", event_time=now - 60))
    room.refresh_from_db()
    assert room.status == S.CREATED
    assert client.get("/api/v1/rooms/").json()["results"] == []


def test_recording_callback_stores_the_recording(client, room):
    body = signed("record", room.stream_id)
    assert post(client, body).status_code == 200
    recording = Recording.objects.get(room=room)
    assert recording.video_url == "http://12345678.vod2.myqcloud.com/xxxx/yyyy/zzzz.m3u8"
    assert recording.file_id == "1234567890" and recording.format == "hls"
    assert (recording.duration, recording.size) == (2962, 277941079)
    assert recording.ended_at.timestamp() == body["end_time"]
    assert recording.started_at.timestamp() == body["end_time"] - 2962


def test_screenshot_callback_sets_the_snapshot(client, room):
    post(client, signed("screenshot", room.stream_id))
    room.refresh_from_db()
    assert room.snapshot_url.endswith("/channelid/channelid-screenshot-10-12-05-1280x720.jpg")
    assert room.status == S.CREATED


# --- accepted but changing nothing -----------------------------------------------------------------


def test_duplicate_is_applied_once(client, room):
    body = signed("push", room.stream_id, sequence="111")
    assert post(client, body).status_code == 200
    assert post(client, body).json() == {"code": 0}
    assert room_events(room) == [(S.CREATED, S.LIVE, "callback")]
    outcomes = sorted(CallbackEvent.objects.values_list("outcome", flat=True))
    assert outcomes == [Outcome.APPLIED, Outcome.DUPLICATE]


def test_duplicate_recording_is_stored_once(client, room):
    body = signed("record", room.stream_id)
    post(client, body)
    post(client, body)
    assert Recording.objects.filter(room=room).count() == 1


def test_redelivered_stream_end_does_not_interrupt_a_reconnected_room(client, room):
    now = int(time.time())
    stop = signed("stream_end", room.stream_id, sequence="111", event_time=now - 5)
    post(client, signed("push", room.stream_id, sequence="111", event_time=now - 10))
    post(client, stop)
    post(client, signed("push", room.stream_id, sequence="222", event_time=now))
    post(client, stop)  # Tencent retries
    room.refresh_from_db()
    assert room.status == S.LIVE


def test_unknown_stream_is_accepted_and_logged(client):
    r = post(client, signed("push", "8888_nobodys"))
    assert r.status_code == 200 and r.json() == {"code": 0}
    assert CallbackEvent.objects.get().outcome == Outcome.UNKNOWN_STREAM


def test_unknown_event_type_is_accepted_and_ignored(client, room):
    r = post(client, signed("push", room.stream_id, event_type=332))
    assert r.status_code == 200 and r.json() == {"code": 0}
    room.refresh_from_db()
    assert room.status == S.CREATED
    assert CallbackEvent.objects.get().outcome == Outcome.IGNORED


def test_every_callback_is_logged_with_its_raw_body(client, room):
    body = json.dumps(signed("push", room.stream_id, sequence="42"))
    post(client, body)
    event = CallbackEvent.objects.get()
    assert event.body == body
    assert (event.stream_id, event.kind, event.sequence) == (room.stream_id, 1, "42")
    assert event.event_time is not None


# --- refused: 400 / 403, nothing applied ---------------------------------------------------------------


def assert_refused(client, room, body, status, code):
    r = post(client, body)
    assert r.status_code == status
    assert r.json()["code"] == code
    room.refresh_from_db()
    assert room.status == S.CREATED and room_events(room) == []
    assert CallbackEvent.objects.get().outcome == Outcome.REJECTED


def test_missing_sign_is_refused(client, room):
    body = signed("push", room.stream_id)
    del body["sign"]
    assert_refused(client, room, body, 400, "missing_fields")


def test_bad_sign_is_refused(client, room):
    assert_refused(client, room, signed("push", room.stream_id, key="wrong-key"), 403, "bad_sign")


def test_sign_for_another_t_is_refused(client, room):
    body = signed("push", room.stream_id)
    body["t"] += 1
    assert_refused(client, room, body, 403, "bad_sign")


def test_expired_t_is_refused(client, room):
    body = signed("push", room.stream_id, t=int(time.time()) - 1)
    assert_refused(client, room, body, 403, "expired")


def test_far_future_t_is_refused(client, room, settings):
    body = signed("push", room.stream_id, t=int(time.time()) + settings.CALLBACK_MAX_AHEAD + 60)
    assert_refused(client, room, body, 403, "t_too_far_ahead")


def test_t_within_max_ahead_is_accepted(client, room, settings):
    body = signed("push", room.stream_id, t=int(time.time()) + settings.CALLBACK_MAX_AHEAD - 60)
    assert post(client, body).status_code == 200


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"push"', ""])
def test_body_that_is_not_a_json_object_is_refused(client, room, raw):
    assert_refused(client, room, raw, 400, "bad_json")


@pytest.mark.parametrize("field", ["t", "sign", "event_type", "stream_id"])
def test_missing_field_is_refused(client, room, field):
    body = signed("push", room.stream_id)
    del body[field]
    assert_refused(client, room, body, 400, "missing_fields")


def test_non_numeric_t_is_refused(client, room):
    body = signed("push", room.stream_id)
    body["t"] = "soon"
    assert_refused(client, room, body, 400, "invalid")


def test_only_post_is_allowed(client):
    r = client.get(URL)
    assert r.status_code == 405 and r["Allow"] == "POST"
    assert r.json() == {"code": "method_not_allowed", "detail": "Use POST."}


@pytest.mark.parametrize(
    "changes, status, code",
    [
        ({"sign": "é" * 32}, 403, "bad_sign"),
        ({"t": "²"}, 400, "invalid"),
        ({"t": "9" * 5000}, 400, "invalid"),
        ({"t": -5}, 400, "invalid"),
        ({"event_type": 2**40}, 400, "invalid"),
        ({"event_type": True}, 400, "invalid"),
        ({"stream_id": "8888_" + "x" * 200}, 400, "invalid"),
        ({"sequence": "1" * 65}, 400, "invalid"),
    ],
    ids=[
        "non-ascii-sign",
        "superscript-t",
        "huge-t",
        "negative-t",
        "huge-event-type",
        "bool-event-type",
        "long-stream-id",
        "long-sequence",
    ],
)
def test_malformed_values_are_refused_with_a_clear_answer(client, room, settings, changes, status, code):
    body = signed("push", room.stream_id, sequence="111")
    body.update(changes)
    if "t" in changes and "sign" not in changes:  # a sign that matches the odd t: only its form is wrong
        body["sign"] = hashlib.md5(f"{settings.TENCENT_LIVE_CALLBACK_KEY}{changes['t']}".encode()).hexdigest()
    r = post(client, body)
    assert (r.status_code, r.json()["code"]) == (status, code) and r.json()["detail"]
    room.refresh_from_db()
    assert room.status == S.CREATED
    assert CallbackEvent.objects.get().outcome == Outcome.REJECTED


def test_a_value_that_fits_no_column_is_refused_and_logged(client, room):
    r = post(client, signed("record", room.stream_id, duration=2**40))
    assert r.status_code == 400 and r.json()["code"] == "invalid"
    assert not Recording.objects.exists()
    assert CallbackEvent.objects.get().outcome == Outcome.REJECTED


def test_an_event_time_that_is_no_time_is_ignored_not_fatal(client, room):
    body = signed("push", room.stream_id, sequence="111", t=int(time.time()) + 600)
    r = post(client, {**body, "event_time": "yesterday"})  # a time past `t` is refused (test_callback_guards)
    assert r.status_code == 200
    room.refresh_from_db()
    assert room.status == S.LIVE


def test_an_oversized_body_is_refused(client, room, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = signed("push", room.stream_id, padding="x" * 2000)
    r = post(client, body)
    assert r.status_code == 413 and r.json()["code"] == "too_large"
    room.refresh_from_db()
    assert room.status == S.CREATED
    assert CallbackEvent.objects.get().outcome == Outcome.REJECTED


def test_a_crash_answers_json_500_and_the_retry_applies(room, monkeypatch):
    from django.test import Client

    from callbacks import handlers

    def crash(room, event):
        raise RuntimeError("database went away")

    client = Client(raise_request_exception=False)
    body = signed("push", room.stream_id, sequence="111")
    with monkeypatch.context() as patch:
        patch.setitem(handlers.HANDLERS, 1, crash)
        r = post(client, body)
    assert r.status_code == 500 and r.json()["code"] == "server_error"  # Tencent retries
    assert not CallbackEvent.objects.exists()  # nothing half-applied, no dedupe key left behind
    assert post(client, body).json() == {"code": 0}
    room.refresh_from_db()
    assert room.status == S.LIVE


def test_callbacks_make_no_cloud_calls(client, room, simulator):
    """Tencent waits for our answer: handlers only touch our database (and Redis)."""
    for name in ("push", "screenshot", "record", "stream_end"):
        assert post(client, signed(name, room.stream_id, sequence="111")).status_code == 200
    assert simulator.calls() == []


def test_operators_see_callbacks_and_recordings_in_the_admin(client, room, admin_user):
    post(client, signed("record", room.stream_id))
    post(client, signed("push", room.stream_id, key="wrong-key"))
    client.force_login(admin_user)
    log = client.get("/admin/callbacks/callbackevent/").content.decode()
    assert room.stream_id in log and "Rejected" in log
    page = client.get(f"/admin/rooms/room/{room.pk}/change/").content.decode()
    assert "http://12345678.vod2.myqcloud.com/xxxx/yyyy/zzzz.m3u8" in page


def test_callback_log_older_than_the_retention_is_pruned(client, room, settings):
    from datetime import timedelta

    from django.utils import timezone

    from callbacks.tasks import prune_callback_log

    post(client, signed("push", room.stream_id, sequence="1"))
    post(client, signed("screenshot", room.stream_id))
    CallbackEvent.objects.filter(kind=1).update(received_at=timezone.now() - timedelta(days=31))
    settings.CALLBACK_LOG_DAYS = 30
    assert prune_callback_log() == 1
    assert list(CallbackEvent.objects.values_list("kind", flat=True)) == [200]
