"""Stream health: DescribeLiveStreamPushInfoList once a minute, event 321, the owner's view, the metrics."""

import json
import time

import pytest
import requests

from livecloud import CloudError, stream_urls
from livecloud.api3 import Api3Client
from livecloud.legacy import LegacyClient
from livecloud.push_info import PushInfo
from livecloud.signing import md5_sign
from monitoring import health
from monitoring.models import StreamHealth
from rooms.models import Room
from tests.test_metrics import samples, value

pytestmark = pytest.mark.django_db


@pytest.fixture
def pushed(simulator, make_room, streamer):
    """A live room whose stream the simulator has online."""
    room = make_room(streamer, Room.Status.LIVE)
    assert simulator.publish(stream_urls.push_url(room.stream_id)[0]).status_code == 200
    return room


def set_health(simulator, stream_id, **figures):
    return requests.post(f"{simulator.url}/sim/streams/{stream_id}/health", json=figures, timeout=5)


def test_degraded_rule():
    def of(**kw):
        return health.problems(PushInfo("s", **kw))

    assert of(fps=30, kbps=2500, declared_fps=30, declared_kbps=2500) == []
    assert of(fps=24, kbps=2500, declared_fps=30, declared_kbps=2500) == []  # 80 % of 30
    assert of(fps=23, kbps=2500, declared_fps=30, declared_kbps=2500) == ["low_fps"]
    assert of(fps=30, kbps=1249, declared_fps=30, declared_kbps=2500) == ["low_bitrate"]
    assert of(fps=14, kbps=400) == ["low_fps"]  # nothing declared: 15 fps is the floor
    assert of(fps=25, kbps=100) == []  # a bitrate is judged only against a declared one
    assert of(fps=None, kbps=None) == []


def test_check_is_one_call_and_keeps_each_live_rooms_health(simulator, pushed, client_for, streamer, viewer_api):
    result = health.check()
    assert result["rooms"] == 1 and result["degraded"] == 0
    assert len(simulator.calls("DescribeLiveStreamPushInfoList")) == 1
    row = StreamHealth.objects.get(room=pushed)
    assert (row.fps, row.declared_fps, row.resolution, row.degraded) == (30, 30, "1280x720", False)
    assert 2400 <= row.kbps <= 2600

    answer = client_for(streamer).get(f"/api/v1/rooms/{pushed.pk}/")
    assert answer["Cache-Control"] == "private, no-cache" and answer["ETag"]  # personal: no shared cache keeps it
    owner = answer.json()
    assert owner["health"]["fps"] == 30 and owner["health"]["degraded"] is False
    assert owner["health"]["checked_at"]
    assert "health" not in viewer_api.get(f"/api/v1/rooms/{pushed.pk}/").json()


def test_a_simulated_degraded_stream_reaches_the_api_and_the_metrics(
    simulator, pushed, client_for, streamer, client, settings
):
    settings.METRICS_ALLOWED = ["127.0.0.1"]
    assert set_health(simulator, pushed.stream_id, fps=9, kbps=600).status_code == 200
    assert health.check()["degraded"] == 1
    body = client_for(streamer).get(f"/api/v1/rooms/{pushed.pk}/").json()["health"]
    assert body["fps"] == 9 and body["kbps"] == 600 and body["declared_kbps"] == 2500
    assert body["degraded"] is True and body["problems"] == ["low_fps", "low_bitrate"]
    assert value(samples(client.get("/metrics").content.decode()), "liveroom_streams_degraded") == 1
    assert set_health(simulator, pushed.stream_id, fps=30, kbps=2500).status_code == 200
    health.check()
    assert value(samples(client.get("/metrics").content.decode()), "liveroom_streams_degraded") == 0


def test_simulator_health_override_is_checked(simulator, pushed):
    assert set_health(simulator, pushed.stream_id, fps="fast").status_code == 400
    assert set_health(simulator, pushed.stream_id, fps=10, colour="red").status_code == 400
    assert set_health(simulator, pushed.stream_id).status_code == 400
    assert set_health(simulator, "8888_nobody", fps=10).status_code == 404


def test_failed_check_keeps_the_last_figures(simulator, pushed):
    health.check()
    simulator.faults(api_error_rate=1.0, api_error_actions=["DescribeLiveStreamPushInfoList"])
    assert "cloud_error" in health.check()
    assert StreamHealth.objects.get(room=pushed).fps == 30


def test_only_live_rooms_get_health(simulator, make_room, streamer):
    room = make_room(streamer)  # created, yet pushing: the sweeper will heal it; no health until live
    simulator.publish(stream_urls.push_url(room.stream_id)[0])
    assert health.check()["rooms"] == 0
    assert not StreamHealth.objects.exists()


def test_legacy_client_reads_get_live_push_stat(simulator, pushed, settings):
    settings.LIVE_CLOUD = "legacy"
    set_health(simulator, pushed.stream_id, fps=12, kbps=800)
    client = LegacyClient.from_settings(settings)
    assert client.push_info() == [PushInfo(pushed.stream_id, 12.0, 800)]
    assert [c["action"] for c in simulator.calls()][-1] == "Get_LivePushStat"


def test_api3_client_pages_and_reads_figures(simulator, pushed, settings):
    client = Api3Client.from_settings(settings)
    client.push_info_page_size = 1
    (info,) = client.push_info()
    assert (info.stream_id, info.fps, info.resolution, info.declared_kbps) == (pushed.stream_id, 30, "1280x720", 2500)
    simulator.faults(api_error_rate=1.0, api_error_code="AuthFailure.SignatureFailure")
    with pytest.raises(CloudError) as failure:
        client.push_info()
    assert failure.value.code == "AuthFailure.SignatureFailure" and not failure.value.retryable


def exception_event(stream_id, data_time=None):
    now = int(time.time())
    t = now + 600
    return {
        "event_type": 321,
        "appid": 1250000000,
        "stream_id": stream_id,
        "sequence": "77",
        "data_time": data_time or now * 1000,
        "report_interval": 60000,
        "abnormal_event": {
            "type": 3,
            "count": 4,
            "detail": [{"desc": "video frame interval over 3 s", "occur_time": now * 1000}],
            "type_desc_en": "frame interval too large",
        },
        "t": t,
        "sign": md5_sign("dev-callback-key", t),
    }


def test_push_exception_callback_is_recorded_on_the_health(client, pushed, client_for, streamer, settings):
    settings.TENCENT_LIVE_CALLBACK_KEY = "dev-callback-key"
    event = exception_event(pushed.stream_id)
    for _ in range(2):  # a redelivery is applied once
        r = client.post("/callbacks/tencent/", json.dumps(event), content_type="application/json")
        assert r.status_code == 200 and r.json() == {"code": 0}
    body = client_for(streamer).get(f"/api/v1/rooms/{pushed.pk}/").json()["health"]
    assert body["degraded"] is True and body["problems"] == ["push_exception"]
    assert body["exception"]["type"] == 3 and body["exception"]["count"] == 4
    assert body["exception"]["detail"] == "frame interval too large"
    from callbacks.models import CallbackEvent

    assert sorted(CallbackEvent.objects.values_list("outcome", flat=True)) == ["applied", "duplicate"]


def test_push_exception_stays_in_the_health_for_two_check_intervals(simulator, pushed, settings):
    settings.TENCENT_LIVE_CALLBACK_KEY = "dev-callback-key"
    health.record_push_exception(pushed, exception_type=3, detail="gap", count=1)
    health.check()
    assert StreamHealth.objects.get(room=pushed).problems == ["push_exception"]
    StreamHealth.objects.filter(room=pushed).update(exception_at=health.timezone.now() - health.exception_window())
    health.check()
    row = StreamHealth.objects.get(room=pushed)
    assert row.problems == [] and not row.degraded and row.exception_type == 3  # kept, no longer counted


def test_simulator_sends_event_321(live_simulator, make_room, streamer):
    room = make_room(streamer, Room.Status.LIVE)
    live_simulator.publish(stream_urls.push_url(room.stream_id)[0])
    r = requests.post(f"{live_simulator.url}/sim/streams/{room.stream_id}/exception", json={"type": 5}, timeout=10)
    assert r.status_code == 200 and r.json()["callbacks"][0]["results"] == [200]
    assert StreamHealth.objects.get(room=room).exception_type == 5


def test_a_check_costs_one_cloud_call_and_three_queries(simulator, pushed, django_assert_num_queries):
    with django_assert_num_queries(3):  # live rooms of the online streams, recent exceptions, one upsert
        assert health.check()["rooms"] == 1
    assert len(simulator.calls("DescribeLiveStreamPushInfoList")) == 1


def test_the_beat_sweep_checks_stream_health_with_it(simulator, pushed):
    from rooms import tasks

    tasks.sweep_rooms()
    assert [c["action"] for c in simulator.calls()] == [
        "DescribeLiveStreamOnlineList",
        "DescribeLiveStreamPushInfoList",
    ]
    assert StreamHealth.objects.get(room=pushed).fps == 30
