"""The app's go-live report, sent many times at once (retries over a flaky network, two screens)."""

import threading

import pytest
from django.db import connection

from rooms.models import Room, RoomEvent

S = Room.Status


def at_once(n, fn):
    """`fn()` from `n` threads released together; their results (each thread its own connection)."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        try:
            barrier.wait()
            results[i] = fn()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_sixteen_go_live_reports_at_once_all_succeed_with_one_event(make_room, streamer, client_for):
    room = make_room(streamer)
    clients = [client_for(streamer) for _ in range(16)]
    calls = iter(clients)
    lock = threading.Lock()

    def report():
        with lock:
            api = next(calls)
        r = api.post(f"/api/v1/rooms/{room.pk}/live/")
        return r.status_code, r.json()["status"] if r.status_code == 200 else r.json()

    results = at_once(16, report)
    assert results == [(200, "live")] * 16
    assert RoomEvent.objects.filter(room=room, new_status=S.LIVE).count() == 1
    room.refresh_from_db()
    assert room.status == S.LIVE
