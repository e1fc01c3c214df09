import threading

import pytest
from django.db import IntegrityError, connection, transaction

from rooms import services
from rooms.models import Room, RoomEvent

pytestmark = pytest.mark.django_db

S = Room.Status
SRC = RoomEvent.Source


def events(room):
    return list(RoomEvent.objects.filter(room=room).values_list("old_status", "new_status"))


def test_new_room_is_created_not_live_with_bizid_stream_id(streamer, settings):
    room = services.create_room(streamer, title="Hello")
    assert room.status == S.CREATED
    assert room.stream_id.startswith(f"{settings.TENCENT_LIVE_BIZID}_")
    assert room.stream_id.replace("_", "").isalnum()


def test_stream_ids_are_unique(streamer, make_user):
    ids = {services.create_room(make_user(), title="x").stream_id for _ in range(20)}
    assert len(ids) == 20


@pytest.mark.parametrize("start", [S.CREATED, S.INTERRUPTED])
def test_mark_live_from_created_or_interrupted(make_room, streamer, start):
    room = make_room(streamer, start)
    assert services.mark_live(room, source=SRC.API)
    assert room.status == S.LIVE and room.started_at is not None
    assert events(room)[-1] == (start, S.LIVE)


@pytest.mark.parametrize("start", [S.CLOSED, S.BANNED])
def test_terminal_rooms_never_go_live(make_room, streamer, start):
    room = make_room(streamer, start)
    assert not services.mark_live(room, source=SRC.CALLBACK)
    room.refresh_from_db()
    assert room.status == start


def test_mark_live_twice_records_one_event(make_room, streamer):
    room = make_room(streamer)
    assert services.mark_live(room, source=SRC.API)
    assert not services.mark_live(room, source=SRC.CALLBACK)
    assert events(room) == [(S.CREATED, S.LIVE)]


def test_reconnect_keeps_original_started_at(make_room, streamer):
    room = make_room(streamer, S.LIVE)
    started = room.started_at
    services.mark_interrupted(room, source=SRC.CALLBACK)
    services.mark_live(room, source=SRC.CALLBACK)
    assert room.started_at == started


@pytest.mark.parametrize("start", [S.CREATED, S.INTERRUPTED, S.CLOSED, S.BANNED])
def test_only_live_rooms_can_be_interrupted(make_room, streamer, start):
    room = make_room(streamer, start)
    assert not services.mark_interrupted(room, source=SRC.CALLBACK)


def test_stream_end_for_old_sequence_is_ignored(make_room, streamer):
    room = make_room(streamer)
    services.mark_live(room, source=SRC.CALLBACK, sequence="111")
    services.mark_live(room, source=SRC.CALLBACK, sequence="222")  # quick reconnect, new push session
    room.refresh_from_db()
    assert room.push_sequence == "222"
    assert not services.mark_interrupted(room, source=SRC.CALLBACK, sequence="111")
    assert services.mark_interrupted(room, source=SRC.CALLBACK, sequence="222")


def test_event_older_than_last_applied_is_ignored(make_room, streamer):
    from datetime import timedelta

    from django.utils import timezone

    room = make_room(streamer)
    t = timezone.now()
    services.mark_live(room, source=SRC.CALLBACK, sequence="1", event_time=t)
    assert not services.mark_interrupted(room, source=SRC.CALLBACK, sequence="1", event_time=t - timedelta(seconds=5))
    assert services.mark_interrupted(room, source=SRC.CALLBACK, sequence="1", event_time=t + timedelta(seconds=5))


@pytest.mark.parametrize("start", [S.CREATED, S.LIVE, S.INTERRUPTED])
def test_close_from_every_open_state(make_room, streamer, start):
    room = make_room(streamer, start)
    assert services.close_room(room, reason=Room.CloseReason.OWNER, source=SRC.API)
    assert room.status == S.CLOSED and room.close_reason == "owner" and room.ended_at
    assert events(room)[-1] == (start, S.CLOSED)


@pytest.mark.parametrize("start", [S.CLOSED, S.BANNED])
def test_close_is_a_no_op_on_terminal_rooms(make_room, streamer, start):
    room = make_room(streamer, start)
    before = events(room)
    assert not services.close_room(room, reason=Room.CloseReason.ZOMBIE, source=SRC.SWEEPER)
    assert events(room) == before


@pytest.mark.parametrize("start", [S.CREATED, S.LIVE, S.INTERRUPTED, S.CLOSED])
def test_ban_from_any_state(make_room, streamer, start):
    room = make_room(streamer, start)
    assert services.ban_room(room, reason="spam")
    assert room.status == S.BANNED
    assert not services.ban_room(room, reason="again")


def test_new_room_replaces_open_room(make_room, streamer):
    old = make_room(streamer, S.LIVE)
    new = services.create_room(streamer, title="Second")
    old.refresh_from_db()
    assert old.status == S.CLOSED and old.close_reason == "replaced"
    assert new.status == S.CREATED
    assert Room.objects.filter(owner=streamer, status__in=Room.OPEN_STATUSES).count() == 1


def test_database_refuses_two_open_rooms_per_owner(make_room, streamer):
    make_room(streamer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Room.objects.create(owner=streamer, stream_id="8888_dup", title="Sneaky")


def race(n, fn):
    barrier = threading.Barrier(n)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(fn())
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_racing_closes_record_exactly_one_event(make_room, streamer):
    room = make_room(streamer, S.LIVE)
    results = race(8, lambda: services.close_room(Room.objects.get(pk=room.pk), reason="owner", source=SRC.API))
    assert results.count(True) == 1
    assert RoomEvent.objects.filter(room=room, new_status=S.CLOSED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_racing_go_live_records_exactly_one_event(make_room, streamer):
    room = make_room(streamer)
    results = race(8, lambda: services.mark_live(Room.objects.get(pk=room.pk), source=SRC.CALLBACK))
    assert results.count(True) == 1
    assert RoomEvent.objects.filter(room=room, new_status=S.LIVE).count() == 1


@pytest.mark.django_db(transaction=True)
def test_racing_creates_leave_one_open_room(streamer):
    race(6, lambda: services.create_room(streamer, title="Race"))
    assert Room.objects.filter(owner=streamer).count() == 6
    assert Room.objects.filter(owner=streamer, status__in=Room.OPEN_STATUSES).count() == 1


@pytest.mark.django_db(transaction=True)
def test_racing_retries_with_one_idempotency_key_open_one_room(streamer):
    rooms = race(6, lambda: services.create_room(streamer, title="Retry", idempotency_key="k1").pk)
    assert len(set(rooms)) == 1
    assert Room.objects.filter(owner=streamer).count() == 1
