"""Fault tests: the app under granian on a redis-server of its own and behind a TCP proxy in
front of PostgreSQL, both of which the tests break (kill, SIGSTOP, cut) and mend.

The figures each fault test records (requests, answers by status, increments accepted and
counted, seconds to recover) are printed at the end of the run.
"""

import uuid

import pytest
import requests
from django.conf import settings
from django.db import connections
from django.test import Client

from .servers import AppServer, RedisServer, TcpProxy, free_port, wait_until

PREFIX = "faults"
FIGURES = []


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("faults")


@pytest.fixture(scope="session")
def redis_server(workdir):
    server = RedisServer(workdir / "redis").start()
    yield server
    server.close()


@pytest.fixture(scope="session")
def pg_proxy(django_db_setup):
    db = connections["default"].settings_dict
    proxy = TcpProxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
    yield proxy
    proxy.close()


@pytest.fixture(scope="session")
def broker_port():
    """Where the app's Celery broker would be: nothing listens there unless a test starts one."""
    return free_port()


@pytest.fixture(scope="session")
def app(django_db_setup, django_db_blocker, redis_server, pg_proxy, broker_port, workdir):
    """granian (1 worker, 8 blocking threads) on the test database through the proxy, DEBUG off."""
    db = connections["default"].settings_dict
    name = f"liveroom-faults-{uuid.uuid4().hex[:8]}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    env = {
        "DJANGO_DEBUG": "off",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,  # so a session made here is valid there
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_COOKIES": "off",
        "DATABASE_URL": f"postgres://{db['USER']}{password}@127.0.0.1:{pg_proxy.port}/{db['NAME']}?application_name={name}",
        "DATABASE_CONNECT_TIMEOUT": "2",
        "REDIS_URL": redis_server.url,
        "REDIS_KEY_PREFIX": PREFIX,
        "REDIS_BREAKER_SECONDS": "1",
        "REDIS_SOCKET_TIMEOUT_MS": "250",
        "ROOM_LIST_CACHE_TTL": "1",
        "STALE_IF_ERROR": "60",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{broker_port}/0",
        "TENCENT_SECRET_ID": settings.TENCENT_SECRET_ID,
        "TENCENT_SECRET_KEY": settings.TENCENT_SECRET_KEY,
        "TENCENT_LIVE_PUSH_KEY": settings.TENCENT_LIVE_PUSH_KEY,
        "TENCENT_LIVE_CALLBACK_KEY": settings.TENCENT_LIVE_CALLBACK_KEY,
        "TENCENT_LIVE_ENDPOINT": "http://127.0.0.1:9",  # the app server never calls the cloud itself here
        "THROTTLE_COUNTER": "1000000/min",
        "THROTTLE_AUTH": "100000/min",
        "THROTTLE_ROOM_WRITE": "100000/min",
        "LOG_LEVEL": "WARNING",
    }
    server = AppServer(env, workdir)
    server.application_name = name
    yield server
    server.close()


@pytest.fixture
def faults(settings, redis_server, pg_proxy, transactional_db):
    """This process on the app's Redis and key prefix (so the test can flush and read counts as
    beat would), with the Redis emptied first; everything mended afterwards."""
    settings.REDIS_URL = redis_server.url
    settings.REDIS_KEY_PREFIX = PREFIX
    settings.REDIS_BREAKER_SECONDS = 1
    settings.REDIS_SOCKET_TIMEOUT_MS = 250  # the default
    from infra.redis import get_redis

    wait_until(lambda: _ping(get_redis()), what="this process's Redis circuit closing")
    get_redis().flushall()
    yield
    pg_proxy.restore()
    redis_server.resume()
    if redis_server.process.poll() is not None:
        redis_server.start()
    settings.REDIS_URL = redis_server.url
    wait_until(lambda: _ping(get_redis()), what="Redis answering again, and this process's circuit closed")


def login(app, user):
    """A browser session of `user` on the app server (it shares this process's secret key)."""
    client = Client()
    client.force_login(user)
    session = requests.Session()
    session.cookies.set(settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value)
    assert session.get(app.url("/admin/rooms/room/"), timeout=10).status_code == 200
    return session


def _ping(client):
    try:
        return client.ping()
    except Exception:  # noqa: BLE001 - not yet
        return False


@pytest.fixture
def record():
    """`record(fault, **figures)`: kept for the summary at the end of the run."""

    def add(fault, **figures):
        FIGURES.append((fault, figures))

    return add


def pytest_terminal_summary(terminalreporter):
    if not FIGURES:
        return
    terminalreporter.section("fault figures")
    for fault, figures in FIGURES:
        terminalreporter.write_line(fault)
        for name, value in figures.items():
            terminalreporter.write_line(f"    {name}: {value}")
