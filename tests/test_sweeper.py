"""The zombie sweeper against the simulator (real HTTP to the fake cloud, callbacks lost on purpose)."""

import threading
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

import livecloud
from infra.locks import exclusive
from livecloud.stream_urls import push_url
from rooms import sweeper, tasks
from rooms.models import Room, RoomEvent

pytestmark = pytest.mark.django_db
S, R = Room.Status, Room.CloseReason
LIST_CALLS = {"api3": "DescribeLiveStreamOnlineList", "legacy": "Live_Channel_GetLiveChannelList"}
STATE_CALLS = {"api3": "DescribeLiveStreamState", "legacy": "Live_Channel_GetStatus"}


def online(simulator, room):
    """The stream is pushing at the cloud, but its callback never reaches us."""
    assert simulator.publish(push_url(room.stream_id)[0]).status_code == 200


def reload(room):
    room.refresh_from_db()
    return room


@pytest.mark.parametrize("backend", ["api3", "legacy"])
def test_live_room_missing_from_three_sweeps_is_closed_as_zombie(simulator, settings, make_room, streamer, backend):
    settings.LIVE_CLOUD = backend
    room = make_room(streamer, S.LIVE)
    for strikes in (1, 2):
        result = sweeper.sweep()
        assert (result.struck, result.zombies) == (1, 0)
        assert reload(room).status == S.LIVE and room.offline_strikes == strikes
    assert sweeper.sweep().zombies == 1
    assert reload(room).status == S.CLOSED and room.close_reason == R.ZOMBIE
    assert RoomEvent.objects.filter(room=room).last().source == "sweeper"
    assert len(simulator.calls(LIST_CALLS[backend])) == 3  # one list call per pass
    checked = [
        c["params"].get("StreamName") or c["params"]["channel_id"] for c in simulator.calls(STATE_CALLS[backend])
    ]
    assert checked == [room.stream_id]  # its state confirmed once, before closing


@pytest.mark.parametrize("backend", ["api3", "legacy"])
def test_an_online_list_that_wrongly_comes_back_empty_closes_no_room(
    simulator, settings, make_room, make_user, backend
):
    settings.LIVE_CLOUD = backend
    rooms = [make_room(make_user(), S.LIVE) for _ in range(3)]
    for room in rooms:
        online(simulator, room)
    simulator.faults(online_list_drop_rate=1)  # the cloud's list glitches: every stream left out
    results = [sweeper.sweep() for _ in range(2 * settings.OFFLINE_STRIKES)]
    assert [r.zombies for r in results] == [0] * len(results)
    assert {reload(room).status for room in rooms} == {S.LIVE}
    # every third pass asks the state of each stream, finds it active and resets its strikes
    assert [r.zombie_checks for r in results] == [0, 0, 3, 0, 0, 3]
    assert results[2].seen_online == 3 and {room.offline_strikes for room in rooms} == {0}


def test_zombie_checks_are_capped_per_pass_and_the_rest_wait(simulator, settings, make_room, make_user):
    settings.OFFLINE_STRIKES = 1
    settings.ZOMBIE_CHECKS_PER_SWEEP = 2
    rooms = [make_room(make_user(), S.LIVE) for _ in range(5)]  # crashed: never online
    closed = []
    for _ in range(3):
        result = sweeper.sweep()
        closed.append(result.zombies)
        assert result.zombie_checks <= 2
    assert closed == [2, 2, 1]
    assert len(simulator.calls("DescribeLiveStreamState")) == 5
    assert {reload(room).status for room in rooms} == {S.CLOSED}


def test_a_failed_zombie_check_closes_nothing(simulator, settings, make_room, make_user):
    settings.OFFLINE_STRIKES = 1
    rooms = [make_room(make_user(), S.LIVE) for _ in range(2)]
    simulator.faults(api_error_rate=1, api_error_actions=["DescribeLiveStreamState"])
    result = sweeper.sweep()
    assert result.zombie_check_error and (result.zombies, result.zombies_waiting) == (0, 2)
    assert len(simulator.calls("DescribeLiveStreamState")) == 1  # the cloud fails: no more calls
    assert {reload(room).status for room in rooms} == {S.LIVE}

    simulator.faults(api_error_rate=0)
    assert sweeper.sweep().zombies == 2


def test_zombie_checks_stop_when_a_slow_cloud_uses_up_the_pass(simulator, settings, make_room, make_user):
    """Half of SWEEP_INTERVAL at most: a pass must not outlive its lock and overlap the next one."""
    settings.OFFLINE_STRIKES = 1
    settings.SWEEP_INTERVAL = 1
    rooms = [make_room(make_user(), S.LIVE) for _ in range(5)]
    simulator.faults(api_delay_ms=300)  # every call: the list, then each state check
    result = sweeper.sweep()
    assert result.zombies_waiting >= 3 and result.zombies + result.zombies_waiting == 5
    assert len(simulator.calls("DescribeLiveStreamState")) == result.zombie_checks < 5
    simulator.faults(api_delay_ms=0)
    for _ in range(5):
        sweeper.sweep()
    assert {reload(room).status for room in rooms} == {S.CLOSED}


def test_a_forbidden_stream_missing_from_the_list_is_a_zombie(simulator, settings, make_room, streamer):
    """Missing from the list and `forbid` at the cloud (not `active`): nothing is pushing."""
    settings.OFFLINE_STRIKES = 1
    room = make_room(streamer, S.LIVE)
    livecloud.get_client().forbid(room.stream_id, resume_at=None, reason="test")
    assert sweeper.sweep().zombies == 1
    assert reload(room).close_reason == R.ZOMBIE


def test_strikes_must_be_consecutive(simulator, make_room, streamer):
    room = make_room(streamer, S.LIVE)
    sweeper.sweep()
    sweeper.sweep()
    online(simulator, room)
    before = reload(room).last_seen_live_at
    assert sweeper.sweep().seen_online == 1
    assert reload(room).offline_strikes == 0 and room.last_seen_live_at > before
    simulator.crash(room.stream_id)
    sweeper.sweep()
    assert reload(room).status == S.LIVE and room.offline_strikes == 1


def test_strike_limit_follows_settings(simulator, settings, make_room, streamer):
    settings.OFFLINE_STRIKES = 1
    room = make_room(streamer, S.LIVE)
    sweeper.sweep()
    assert reload(room).status == S.CLOSED and room.close_reason == R.ZOMBIE


@pytest.mark.parametrize("start", [S.CREATED, S.INTERRUPTED])
def test_room_online_at_the_cloud_is_healed_to_live(simulator, make_room, streamer, api, start):
    room = make_room(streamer, start)
    online(simulator, room)
    assert sweeper.sweep().healed == 1
    assert reload(room).status == S.LIVE and room.push_sequence == ""
    assert [r["id"] for r in api.get("/api/v1/rooms/").json()["results"]] == [room.pk]
    assert RoomEvent.objects.filter(room=room).last().source == "sweeper"


def test_interrupted_room_is_closed_only_after_the_reconnect_window(simulator, settings, make_room, streamer):
    settings.RECONNECT_WINDOW = 60
    room = make_room(streamer, S.INTERRUPTED)
    sweeper.sweep()
    assert reload(room).status == S.INTERRUPTED
    Room.objects.filter(pk=room.pk).update(interrupted_at=timezone.now() - timedelta(seconds=61))
    assert sweeper.sweep().ended == 1
    assert reload(room).status == S.CLOSED and room.close_reason == R.STREAM_ENDED


def test_room_that_never_went_live_expires_after_pending_ttl(simulator, settings, make_room, streamer):
    settings.PENDING_TTL = 600
    room = make_room(streamer)
    sweeper.sweep()
    assert reload(room).status == S.CREATED
    Room.objects.filter(pk=room.pk).update(created_at=timezone.now() - timedelta(seconds=601))
    assert sweeper.sweep().expired == 1
    assert reload(room).status == S.CLOSED and room.close_reason == R.EXPIRED


def test_terminal_rooms_are_left_alone(simulator, make_room, streamer, make_user):
    closed = make_room(streamer, S.CLOSED)
    banned = make_room(make_user(), S.BANNED)
    online(simulator, closed)
    sweeper.sweep()
    assert reload(closed).status == S.CLOSED and reload(banned).status == S.BANNED


@pytest.mark.parametrize("fault", [{"api_error_rate": 1}, {"api_delay_ms": 1000}])
def test_nothing_is_closed_while_the_cloud_api_fails(simulator, settings, make_room, make_user, fault):
    settings.TENCENT_LIVE_TIMEOUT = 0.2
    settings.OFFLINE_STRIKES = 1
    settings.RECONNECT_WINDOW = 0
    settings.PENDING_TTL = 1
    live = make_room(make_user(), S.LIVE)
    interrupted = make_room(make_user(), S.INTERRUPTED)
    created = make_room(make_user())
    Room.objects.filter(pk=created.pk).update(created_at=timezone.now() - timedelta(hours=1))
    simulator.faults(**fault)
    result = sweeper.sweep()
    assert result.cloud_error
    assert reload(live).status == S.LIVE and live.offline_strikes == 0
    assert reload(interrupted).status == S.INTERRUPTED
    assert reload(created).status == S.CREATED

    simulator.faults(api_error_rate=0, api_delay_ms=0)
    sweeper.sweep()
    assert {reload(r).status for r in (live, interrupted, created)} == {S.CLOSED}


def hold_lock_in_another_connection(started, release):
    try:
        with exclusive("sweep-rooms", timeout=30) as acquired:
            assert acquired
            started.set()
            release.wait(10)
    finally:
        connection.close()


@pytest.mark.parametrize("redis", [True, False], ids=["redis-lock", "postgres-advisory-lock"])
def test_a_second_sweep_does_nothing_while_one_runs(simulator, settings, make_room, streamer, redis):
    if not redis:
        settings.REDIS_URL = None
    room = make_room(streamer, S.LIVE)
    started, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_lock_in_another_connection, args=(started, release))
    holder.start()
    try:
        assert started.wait(10)
        assert sweeper.sweep().ran is False
        assert simulator.calls() == [] and reload(room).offline_strikes == 0
    finally:
        release.set()
        holder.join()
    assert sweeper.sweep().ran is True
    assert reload(room).offline_strikes == 1


def test_management_command_runs_one_pass(simulator, make_room, streamer, capsys):
    room = make_room(streamer, S.LIVE)
    call_command("sweep_rooms")
    assert "struck: 1" in capsys.readouterr().out
    assert reload(room).offline_strikes == 1


def test_management_command_fails_loudly_when_the_cloud_fails(simulator):
    simulator.faults(api_error_rate=1)
    with pytest.raises(CommandError, match="nothing was closed"):
        call_command("sweep_rooms")


def test_celery_task_runs_one_pass(simulator, make_room, streamer):
    room = make_room(streamer, S.LIVE)
    online(simulator, room)
    result = tasks.sweep_rooms()
    assert result["seen_online"] == 1 and result["ran"]


def test_bench_sweeps_live_rooms_with_one_list_call_and_cleans_up(capsys):
    call_command("sweep_rooms", "--bench", "--rooms", "50")
    out = capsys.readouterr().out
    assert "sweep over 50 live rooms" in out and "1 list call(s), 50 seen online" in out
    assert not Room.objects.exists()
