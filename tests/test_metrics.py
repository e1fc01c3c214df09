"""GET /metrics: who may read it, and that a like, a callback, a sweep and a cloud error move their counters."""

import json
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from livecloud.signing import md5_sign
from rooms import sweeper
from rooms.models import Room

pytestmark = pytest.mark.django_db


def scrape(client, **headers):
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/plain; version=")
    return samples(response.content.decode())


def samples(text):
    """{(name, frozenset(labels)): value} of a Prometheus text exposition."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(scraped, name, **labels):
    return scraped.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def metrics_open(settings):
    settings.METRICS_ALLOWED = ["127.0.0.0/8"]


def test_metrics_is_404_without_the_token_or_an_allowed_address(client, settings):
    settings.METRICS_ALLOWED = ["10.0.0.0/8"]
    settings.METRICS_TOKEN = "scrape-secret"
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Token scrape-secret").status_code == 404
    scraped = scrape(client, HTTP_AUTHORIZATION="Bearer scrape-secret")
    assert ("liveroom_rooms", frozenset({"status": "live"}.items())) in scraped


def test_metrics_allowed_address_needs_no_token(client, settings):
    settings.METRICS_TOKEN = None
    settings.METRICS_ALLOWED = ["127.0.0.1"]
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 404


def test_forwarded_address_is_trusted_only_behind_our_own_proxies(client, settings):
    settings.METRICS_TOKEN = None
    settings.METRICS_ALLOWED = ["198.51.100.0/24"]
    spoofed = {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "198.51.100.1"}
    assert client.get("/metrics", **spoofed).status_code == 404
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    assert client.get("/metrics", **spoofed).status_code == 200


def test_metrics_off_is_404(client, settings, metrics_open):
    settings.METRICS_ENABLED = False
    assert client.get("/metrics").status_code == 404


def test_a_like_moves_likes_and_the_request_histogram(client, api, live_room, metrics_open):
    before = scrape(client)
    assert api.post(f"/api/v1/rooms/{live_room.pk}/like/", {"count": 3}, format="json").status_code == 202
    assert api.post(f"/api/v1/rooms/{live_room.pk}/join/").status_code == 202
    after = scrape(client)
    assert value(after, "liveroom_likes_total") - value(before, "liveroom_likes_total") == 3
    assert value(after, "liveroom_joins_total") - value(before, "liveroom_joins_total") == 1
    labels = {"view": "room-like", "method": "POST", "status": "202"}
    count = "liveroom_http_request_duration_seconds_count"
    assert value(after, count, **labels) - value(before, count, **labels) == 1
    assert value(after, "liveroom_rooms", status="live") == 1
    assert value(after, "liveroom_viewers_watching") == 1


def test_requests_are_labelled_by_view_never_by_path(client, metrics_open):
    client.get("/no/such/page/12345")
    text = client.get("/metrics").content.decode()
    assert "12345" not in text
    assert 'view="unresolved"' in text


def signed(stream_id, **fields):
    t = int(time.time()) + 600
    body = {"event_type": 1, "stream_id": stream_id, "sequence": "42", "event_time": int(time.time()), "t": t}
    return {**body, "sign": md5_sign("dev-callback-key", t), **fields}


def test_callbacks_are_counted_by_type_outcome_and_reason(client, make_room, streamer, metrics_open, settings):
    settings.TENCENT_LIVE_CALLBACK_KEY = "dev-callback-key"
    room = make_room(streamer)
    before = scrape(client)
    post = lambda body: client.post("/callbacks/tencent/", json.dumps(body), content_type="application/json")  # noqa: E731
    push = signed(room.stream_id)
    assert post(push).status_code == 200
    assert post(push).status_code == 200  # a redelivery
    assert post(signed(room.stream_id, sign="0" * 32)).status_code == 403
    assert post(signed("8888_nobody")).status_code == 200
    assert post(signed(room.stream_id, event_type=332, sequence="43")).status_code == 200  # no handler
    after = scrape(client)

    def moved(**labels):
        return value(after, "liveroom_callbacks_total", **labels) - value(before, "liveroom_callbacks_total", **labels)

    assert moved(event_type="1", outcome="applied", reason="") == 1
    assert moved(event_type="1", outcome="duplicate", reason="") == 1
    assert moved(event_type="1", outcome="refused", reason="bad_sign") == 1
    assert moved(event_type="1", outcome="ignored", reason="unknown_stream") == 1
    assert moved(event_type="332", outcome="ignored", reason="unhandled_event_type") == 1


def test_a_sweep_and_a_cloud_error_move_their_counters(client, simulator, make_room, streamer, metrics_open):
    make_room(streamer, Room.Status.LIVE)  # not online at the simulator: one strike
    before = scrape(client)
    assert sweeper.sweep().struck == 1
    simulator.faults(api_error_rate=1.0, api_error_code="InternalError")
    assert sweeper.sweep().cloud_error
    after = scrape(client)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("liveroom_sweeper_passes_total", result="ok") == 1
    assert moved("liveroom_sweeper_passes_total", result="cloud_error") == 1
    assert moved("liveroom_sweeper_rooms_total", action="struck", reason="") == 1
    assert moved("liveroom_sweeper_duration_seconds_count") == 2
    online = {"action": "DescribeLiveStreamOnlineList"}
    assert moved("liveroom_cloud_call_duration_seconds_count", **online, result="ok") == 1
    assert moved("liveroom_cloud_call_duration_seconds_count", **online, result="InternalError") == 1


def test_flush_duration_and_lag(client, live_room, api, metrics_open, settings):
    from rooms import tasks

    if not settings.REDIS_URL:
        pytest.skip("the flush lag exists in Redis mode only")
    tasks.flush_counters()
    api.post(f"/api/v1/rooms/{live_room.pk}/like/")
    waiting = scrape(client)
    assert value(waiting, "liveroom_counter_unflushed_rooms") == 1
    assert value(waiting, "liveroom_counter_oldest_unflushed_age_seconds") > 0
    tasks.flush_counters()
    flushed = scrape(client)
    assert value(flushed, "liveroom_counter_unflushed_rooms") == 0
    assert value(flushed, "liveroom_counter_oldest_unflushed_age_seconds") == 0
    count = "liveroom_counter_flush_duration_seconds_count"
    assert value(flushed, count) - value(waiting, count) == 1


def test_bans_awaiting_the_cloud_are_counted(
    client, live_room, moderator, metrics_open, django_capture_on_commit_callbacks
):
    from moderation import services

    services.ban_room(live_room, moderator=moderator, reason="spam")  # its enforcement task never ran here
    assert value(scrape(client), "liveroom_bans_awaiting_enforcement") == 1


def test_a_scrape_costs_four_queries_and_three_redis_round_trips(
    client, live_room, metrics_open, django_assert_num_queries, redis_round_trips, settings
):
    with django_assert_num_queries(4):  # rooms by status, live rooms' viewers, bans awaiting, degraded streams
        client.get("/metrics")
    if settings.REDIS_URL:
        assert len(redis_round_trips) == 3  # the live rooms' pending counts, the unflushed rooms (2)


def test_a_scrape_while_redis_cannot_be_reached_still_answers(client, live_room, metrics_open, settings, monkeypatch):
    import math
    import socket

    import redis

    from rooms import counters

    if not settings.REDIS_URL:
        pytest.skip("Redis mode only")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once closed
    dead = redis.Redis(port=port, socket_connect_timeout=0.2, socket_timeout=0.2)
    monkeypatch.setattr(counters, "get_redis", lambda: dead)
    scraped = scrape(client)
    assert math.isnan(value(scraped, "liveroom_counter_unflushed_rooms"))
    assert math.isnan(value(scraped, "liveroom_counter_oldest_unflushed_age_seconds"))
    assert value(scraped, "liveroom_rooms", status="live") == 1
