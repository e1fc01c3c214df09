"""The Redis circuit breaker, in this process: one failure, then Redis is left alone for
REDIS_BREAKER_SECONDS, then one call is let through and, if Redis answers, all is as before."""

import time

import pytest
import redis
from django.core.cache import cache

from infra.breaker import Unavailable
from infra.redis import breaker, get_redis
from rooms.models import Room
from tests import xiaozhibo_client as xzb

from .servers import wait_until

pytestmark = pytest.mark.usefixtures("faults")


@pytest.fixture
def cache_on_app_redis(settings, redis_server):
    settings.CACHES = {
        "default": {
            "BACKEND": "infra.cache.RedisCache",
            "LOCATION": redis_server.url,
            "OPTIONS": {"pool_class": "infra.redis.ConnectionPool"},
        }
    }


def answers():
    try:
        return get_redis().ping()
    except redis.ConnectionError:
        return False


@pytest.mark.parametrize("fault", ["stop", "kill"])
def test_after_one_failure_redis_is_left_alone_then_tried_again(fault, redis_server, redis_round_trips, record):
    assert get_redis().ping()
    getattr(redis_server, fault)()
    started = time.monotonic()
    with pytest.raises(redis.TimeoutError if fault == "stop" else redis.ConnectionError):
        get_redis().get("x")
    first = time.monotonic() - started
    assert breaker().current_state == "open"
    sent, started = len(redis_round_trips), time.monotonic()
    for _ in range(100):
        with pytest.raises(Unavailable):
            get_redis().get("x")
    rest = (time.monotonic() - started) / 100
    assert len(redis_round_trips) == sent  # nothing was sent while the circuit is open
    record(
        f"Redis {'stopped' if fault == 'stop' else 'killed'}: one client's calls (REDIS_SOCKET_TIMEOUT_MS 250)",
        **{
            "first call failed after (s)": round(first, 3),
            "each call while the circuit is open (ms)": round(rest * 1000, 3),
        },
    )
    redis_server.resume() if fault == "stop" else redis_server.start()
    wait_until(answers, timeout=5, what="the circuit letting a call through")
    assert breaker().current_state == "closed"
    assert get_redis().set("x", 1) and get_redis().get("x") == b"1"


def test_django_cache_is_a_miss_while_redis_is_down(cache_on_app_redis, redis_server):
    cache.set("greeting", "hello")
    assert cache.get("greeting") == "hello"
    redis_server.stop()
    assert cache.get("greeting", "gone") == "gone"
    cache.set("greeting", "ignored")  # dropped, no error
    assert cache.get_many(["greeting"]) == {}


def test_throttled_endpoints_answer_while_redis_is_down(cache_on_app_redis, redis_server, api, make_user):
    user = make_user()
    redis_server.kill()
    response = api.post(
        "/api/v1/auth/token/", {"username": user.username, "password": "s3cret-pass-123"}, format="json"
    )
    assert response.status_code == 200 and response.json()["token"]


def test_a_like_drf_handles_is_a_503_with_retry_after(redis_server, api, make_room, make_user):
    room = make_room(make_user(), Room.Status.LIVE)
    redis_server.stop()
    for body in ({"count": 2.0}, {"count": 2}):  # DRF's path (a whole float), then the fast path
        response = api.post(f"/api/v1/rooms/{room.pk}/like/", body, format="json")
        assert response.status_code == 503
        assert response.json()["code"] == "unavailable"
        assert response["Retry-After"] == "1"  # REDIS_BREAKER_SECONDS here


def test_a_xiaozhibo_counter_change_without_redis_is_its_database_error(settings, redis_server, client):
    """The original protocol's apps read every answer from its envelope (HTTP 200 always)."""
    settings.XIAOZHIBO_COMPAT = True
    xzb.ok(client, xzb.request_lvb_addr())
    xzb.ok(client, xzb.change_status(status=0))
    redis_server.stop()
    xzb.error(client, xzb.add_heart(), 2003)
