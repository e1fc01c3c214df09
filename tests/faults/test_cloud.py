"""The cloud unreachable during sweeps (nothing listening, or a server that never answers):
no pass closes anything, however many run; once the cloud answers, sweeping resumes."""

import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from livecloud.stream_urls import push_url
from rooms import sweeper
from rooms.models import Room

from .servers import free_port

pytestmark = pytest.mark.django_db
S = Room.Status


@pytest.fixture
def silent_cloud():
    """Accepts connections (the kernel does) and never answers."""
    with socket.create_server(("127.0.0.1", 0), backlog=16) as listener:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


@pytest.mark.parametrize("outage", ["refused", "silent"])
def test_a_cloud_outage_during_sweeps_closes_nothing(
    outage, simulator, silent_cloud, settings, make_room, make_user, record
):
    settings.TENCENT_LIVE_TIMEOUT = 0.3
    settings.OFFLINE_STRIKES, settings.RECONNECT_WINDOW, settings.PENDING_TTL = 1, 0, 1
    online = make_room(make_user(), S.LIVE)
    assert simulator.publish(push_url(online.stream_id)[0]).status_code == 200
    gone = make_room(make_user(), S.LIVE)  # its stream stopped: a zombie once the cloud can say so
    interrupted = make_room(make_user(), S.INTERRUPTED)
    created = make_room(make_user())
    Room.objects.filter(pk=created.pk).update(created_at=timezone.now() - timedelta(hours=1))
    rooms = (online, gone, interrupted, created)

    simulator_url = settings.TENCENT_LIVE_ENDPOINT
    settings.TENCENT_LIVE_ENDPOINT = silent_cloud if outage == "silent" else f"http://127.0.0.1:{free_port()}"
    results = [sweeper.sweep() for _ in range(3)]
    assert all(result.cloud_error for result in results)
    assert [room.status for room in Room.objects.filter(pk__in=[r.pk for r in rooms]).order_by("pk")] == [
        S.LIVE,
        S.LIVE,
        S.INTERRUPTED,
        S.CREATED,
    ]
    assert not Room.objects.filter(offline_strikes__gt=0).exists()

    settings.TENCENT_LIVE_ENDPOINT = simulator_url
    assert not sweeper.sweep().cloud_error
    status = dict(Room.objects.filter(pk__in=[r.pk for r in rooms]).values_list("pk", "status"))
    assert status == {online.pk: S.LIVE, gone.pk: S.CLOSED, interrupted.pk: S.CLOSED, created.pk: S.CLOSED}
    record(
        f"Cloud {outage} during sweeps",
        **{"sweeps during the outage": 3, "rooms closed by them": 0, "closed by the first sweep after it": 3},
    )
