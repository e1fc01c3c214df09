"""Redis named by Sentinel: how the settings wire every client to it (the failover itself is
tests/scaleout/test_redis_failover.py)."""

from redis.sentinel import SentinelConnectionPool

from infra import sentinel
from infra.redis import ConnectionPool

from .test_settings import load_settings


def test_sentinels_name_redis_for_the_cache_and_the_broker(monkeypatch):
    conf = load_settings(
        monkeypatch,
        REDIS_SENTINELS="10.0.0.5:26380, 10.0.0.6,[fd00::7]:26381",
        REDIS_SENTINEL_MASTER="live-primary",
        REDIS_URL="redis://:s3cret@ignored:6379/3",
    )
    assert conf["REDIS_SENTINELS"] == [("10.0.0.5", 26380), ("10.0.0.6", 26379), ("fd00::7", 26381)]
    assert conf["CELERY_BROKER_URL"] == (
        "sentinel://:s3cret@10.0.0.5:26380/3;sentinel://:s3cret@10.0.0.6:26379/3;sentinel://:s3cret@[fd00::7]:26381/3"
    )
    assert conf["CELERY_BROKER_TRANSPORT_OPTIONS"] == {"master_name": "live-primary"}
    assert conf["CACHES"]["default"]["OPTIONS"] == {"pool_class": "infra.redis.ConnectionPool"}


def test_without_redis_url_the_sentinels_still_mean_redis(monkeypatch):
    conf = load_settings(monkeypatch, REDIS_SENTINELS="10.0.0.5", REDIS_URL="")
    assert conf["REDIS_URL"] == "redis://sentinel/0"
    assert conf["CELERY_BROKER_URL"] == "sentinel://10.0.0.5:26379/0"


def test_clients_ask_the_sentinels_for_the_primary(settings):
    settings.REDIS_SENTINELS, settings.REDIS_SENTINEL_MASTER = [("127.0.0.1", 1)], "live-primary"
    pool = ConnectionPool.from_url("redis://:pw@ignored:6379/4")  # the shared client's and Django's cache's
    assert isinstance(pool, SentinelConnectionPool) and pool.service_name == "live-primary"
    assert pool.connection_kwargs["db"] == 4 and pool.connection_kwargs["password"] == "pw"
    assert pool.connection_kwargs["socket_timeout"] == settings.REDIS_SOCKET_TIMEOUT_MS / 1000
    assert "host" not in pool.connection_kwargs and pool.connection_kwargs["retry"] is not None
    assert sentinel.pool("redis://sentinel/0").connection_kwargs["db"] == 0


def test_without_sentinels_a_plain_pool(settings):
    settings.REDIS_SENTINELS = []
    pool = ConnectionPool.from_url("redis://127.0.0.1:6379/5")
    assert not isinstance(pool, SentinelConnectionPool) and pool.connection_kwargs["db"] == 5
