"""Callbacks that must not fool us: Tencent's `sign` covers `t` only, so a captured (t, sign) can
carry any body until `t` passes. Event times past `t` or ahead of our clock are refused, a
stream-end without `sequence` cannot end a push we know, and refused floods stay small."""

import json
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from callbacks.models import CallbackEvent
from callbacks.tasks import prune_callback_log
from rooms.models import Room

from .test_callbacks import post, room_events, signed

pytestmark = pytest.mark.django_db
S = Room.Status
Outcome = CallbackEvent.Outcome


@pytest.fixture
def room(make_room, streamer):
    return make_room(streamer)


# --- 5. event times -----------------------------------------------------------------------------


def test_event_dated_after_its_t_is_refused_and_logged(client, room):
    now = int(time.time())
    body = signed("push", room.stream_id, sequence="111", event_time=now + 120, t=now + 60)
    r = post(client, body)
    assert (r.status_code, r.json()["code"]) == (403, "event_after_t")
    room.refresh_from_db()
    assert room.status == S.CREATED and room.last_event_at is None and room_events(room) == []
    logged = CallbackEvent.objects.get()
    assert logged.outcome == Outcome.REJECTED and logged.detail.startswith("event_after_t")


def test_event_far_ahead_of_the_clock_is_refused_even_before_its_t(client, room, settings):
    settings.CALLBACK_EVENT_MAX_AHEAD = 300
    now = int(time.time())
    body = signed("push", room.stream_id, sequence="111", event_time=now + 400, t=now + 800)
    r = post(client, body)
    assert (r.status_code, r.json()["code"]) == (403, "event_time_ahead")
    room.refresh_from_db()
    assert room.status == S.CREATED and room.last_event_at is None
    assert CallbackEvent.objects.get().outcome == Outcome.REJECTED


def test_a_replayed_sign_cannot_date_the_room_into_the_future(client, room):
    """The attack: a captured (t, sign) with a push dated far ahead would make every genuine
    event look older than the last one applied, so the room could never be interrupted."""
    now = int(time.time())
    post(client, signed("push", room.stream_id, sequence="111", event_time=now - 5))
    forged = signed("push", room.stream_id, sequence="222", event_time=now + 86400, t=now + 600)
    assert post(client, forged).status_code == 403
    room.refresh_from_db()
    assert room.last_event_at <= timezone.now() and room.push_sequence == "111"
    assert post(client, signed("stream_end", room.stream_id, sequence="111", event_time=now)).status_code == 200
    room.refresh_from_db()
    assert room.status == S.INTERRUPTED


def test_a_recording_dated_after_its_t_is_refused(client, room):
    now = int(time.time())
    r = post(client, signed("record", room.stream_id, event_time=now + 3600, t=now + 600))
    assert (r.status_code, r.json()["code"]) == (403, "event_after_t")
    assert not room.recordings.exists()


def test_event_within_the_clock_allowance_is_applied(client, room, settings):
    settings.CALLBACK_EVENT_MAX_AHEAD = 300
    now = int(time.time())
    r = post(client, signed("push", room.stream_id, sequence="111", event_time=now + 30, t=now + 600))
    assert r.status_code == 200
    room.refresh_from_db()
    assert room.status == S.LIVE
    assert room.last_event_at <= timezone.now()  # our clock, not the sender's, dates what we applied


# --- 6. stream-end without sequence ------------------------------------------------------------------


def test_stream_end_without_sequence_for_a_known_push_changes_nothing(client, room):
    now = int(time.time())
    post(client, signed("push", room.stream_id, sequence="111", event_time=now - 5))
    body = signed("stream_end", room.stream_id, event_time=now)
    del body["sequence"]
    r = post(client, body)
    assert r.status_code == 200 and r.json() == {"code": 0}
    room.refresh_from_db()
    assert room.status == S.LIVE and room.push_sequence == "111"
    logged = CallbackEvent.objects.get(kind=0)
    assert logged.outcome == Outcome.IGNORED and "sequence" in logged.detail


def test_stream_end_without_sequence_ends_a_push_whose_sequence_is_unknown(client, make_room, streamer):
    room = make_room(streamer, S.LIVE)  # live through the app's report: no push sequence known
    body = signed("stream_end", room.stream_id)
    del body["sequence"]
    assert post(client, body).status_code == 200
    room.refresh_from_db()
    assert room.status == S.INTERRUPTED


# --- 8. refused floods and the log prune ---------------------------------------------------------


@pytest.fixture
def one_minute(monkeypatch):
    """Our clock held still, so that a test's refusals all fall in one minute of the log."""
    from django.utils import timezone as django_timezone

    now = django_timezone.now()
    monkeypatch.setattr(django_timezone, "now", lambda: now)
    return now


def test_repeats_of_one_refusal_are_counted_on_one_row(client, room, one_minute):
    body = signed("push", room.stream_id, key="wrong-key")
    for _ in range(50):
        assert post(client, body).status_code == 403
    [row] = CallbackEvent.objects.all()
    assert (row.outcome, row.repeats, row.stream_id) == (Outcome.REJECTED, 50, room.stream_id)
    assert json.loads(row.body)["sign"] == body["sign"]  # the first one is kept as the sample


def test_a_flood_of_distinct_refusals_keeps_a_bounded_sample(client, room, settings, one_minute):
    settings.CALLBACK_REFUSED_PER_MINUTE = 20
    for n in range(300):
        r = post(client, signed("push", f"8888_flood{n}", key="wrong-key"))
        assert r.status_code == 403 and r.json()["code"] == "bad_sign"  # each still gets its clear answer
    rows = CallbackEvent.objects.filter(outcome=Outcome.REJECTED)
    assert rows.count() == 21  # 20 samples, then one row counting the rest of the minute
    assert sum(rows.values_list("repeats", flat=True)) == 300
    overflow = rows.get(stream_id="")
    assert overflow.repeats == 280 and "not logged one by one" in overflow.detail


def test_a_refusal_in_a_flood_costs_one_to_three_queries(client, room, settings, one_minute, django_assert_num_queries):
    settings.CALLBACK_REFUSED_PER_MINUTE = 1
    body = signed("push", room.stream_id, key="wrong-key")
    post(client, body)
    post(client, signed("push", "8888_other", key="wrong-key"))  # the minute's overflow row
    with django_assert_num_queries(1):  # a repeat: its row's count + 1
        post(client, body)
    with django_assert_num_queries(3):  # a new one past the limit: no row of its own, the overflow's count + 1
        post(client, signed("push", "8888_third", key="wrong-key"))


def test_refusals_of_another_minute_get_rows_of_their_own():
    from callbacks.handlers import log_rejected

    now = timezone.now()
    for at in (now, now, now + timedelta(minutes=1)):
        log_rejected(b"{}", {"stream_id": "8888_x"}, "bad_sign: no", now=at)
    assert sorted(CallbackEvent.objects.values_list("repeats", flat=True)) == [1, 2]


def test_accepted_callbacks_are_still_logged_one_by_one(client, room):
    for sequence in ("1", "2", "3"):
        post(client, signed("push", room.stream_id, sequence=sequence))
    assert CallbackEvent.objects.count() == 3
    assert set(CallbackEvent.objects.values_list("repeats", flat=True)) == {1}


def flood_old_log(rows, age_days):
    """`rows` callback log rows received `age_days` ago, written by PostgreSQL itself (fast)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {CallbackEvent._meta.db_table}
                (received_at, stream_id, kind, sequence, body, outcome, detail, repeats)
            SELECT now() - make_interval(days => %s) - make_interval(secs => n), '8888_old' || n, 1, '',
                   repeat('x', 200), 'applied', '', 1
            FROM generate_series(1, %s) AS n
            """,
            [age_days, rows],
        )


def test_prune_after_a_flood_deletes_in_batches(settings):
    settings.CALLBACK_LOG_DAYS = 30
    settings.CALLBACK_PRUNE_BATCH = 5000
    flood_old_log(50_000, age_days=31)
    flood_old_log(10, age_days=1)
    with CaptureQueriesContext(connection) as queries:
        assert prune_callback_log() == 50_000
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    # ten of 5,000 rows and one that finds none left: no statement holds the table for the whole flood
    assert len(deletes) == 11 and all("LIMIT 5000" in sql for sql in deletes)
    assert CallbackEvent.objects.count() == 10


def test_prune_stops_at_its_time_budget_and_the_next_run_goes_on(settings):
    settings.CALLBACK_PRUNE_BATCH = 1000
    flood_old_log(5000, age_days=40)
    settings.CELERY_TASK_SOFT_TIME_LIMIT = 0  # no time at all: one batch, then stop
    assert prune_callback_log() == 1000
    settings.CELERY_TASK_SOFT_TIME_LIMIT = 60
    assert prune_callback_log() == 4000
    assert not CallbackEvent.objects.exists()


def test_an_image_verdict_dated_after_its_t_is_refused(client, live_room):
    from moderation.models import Flag

    from .test_findings import image_verdict

    now = int(time.time())
    body = image_verdict(live_room.stream_id, at=now)
    body["screenshotTime"] = (now + 3600) * 1000  # in milliseconds, as Tencent may send it
    r = post(client, body)
    assert (r.status_code, r.json()["code"]) == (403, "event_after_t")
    assert not Flag.objects.exists()
