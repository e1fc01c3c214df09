"""/metrics under a web node's several workers (deploy/Procfile's `web`) and a Celery worker sharing
PROMETHEUS_MULTIPROC_DIR.

Any web worker's scrape adds up the samples of every process on the node: the requests served
by the other worker, and the sweep and stream-health passes run by the Celery worker's forked
children.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.scaleout.procs import procfile_command
from tests.test_celery_embedded import database_url
from tests.test_metrics import samples, value

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db(transaction=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def processes():
    started = []

    def start(command, env, log):
        started.append(
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        )
        return started[-1]

    yield start
    _stop(started)
    if settings.REDIS_URL:  # the broker's keys (not under the test's prefix)
        from infra.redis import get_redis

        client = get_redis()
        for pattern in ("celery", "_kombu.binding.*", "unacked*"):
            keys = list(client.scan_iter(pattern))
            if keys:
                client.delete(*keys)


def _stop(started):
    for process in started:
        os.killpg(process.pid, signal.SIGTERM)
    for process in started:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for(predicate, seconds=30, message="timed out"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(message)


def test_scrape_adds_up_every_web_worker_and_the_celery_worker(simulator, processes, tmp_path):
    if not settings.REDIS_URL:
        pytest.skip("the Celery worker here uses the Redis broker")
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "METRICS_ALLOWED": "127.0.0.1",
        "TENCENT_LIVE_ENDPOINT": simulator.url,
        "REDIS_KEY_PREFIX": settings.REDIS_KEY_PREFIX,
        "CELERY_BROKER_URL": settings.REDIS_URL,
        "LOG_LEVEL": "WARNING",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
    }
    log = open(tmp_path / "processes.log", "w+")  # noqa: SIM115
    processes(["bash", "-c", f"exec {procfile_command('web')}"], env, log)
    worker = [sys.executable, "-m", "celery", "-A", "liveroom", "worker", "--concurrency=2", "--loglevel=WARNING"]
    processes(worker, env, log)
    url = f"http://127.0.0.1:{port}"

    def answers():
        try:
            return requests.get(f"{url}/metrics", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    wait_for(answers, message="the web node did not start")
    for _ in range(30):  # fresh connections: both workers serve some
        requests.get(f"{url}/healthz", headers={"Connection": "close"}, timeout=5)
    pids = {path.name.split("_")[-1] for path in metrics_dir.glob("histogram_*.db")}
    assert len(pids) >= 2, f"one process served every request: {pids}"
    healthz = {"view": "healthz", "method": "GET", "status": "200"}
    for _ in range(5):  # whichever worker answers, it reports all 30
        scraped = samples(requests.get(f"{url}/metrics", timeout=5).text)
        assert value(scraped, "liveroom_http_request_duration_seconds_count", **healthz) == 30

    call = [sys.executable, "-m", "celery", "-A", "liveroom", "call", "rooms.tasks.sweep_rooms"]  # and the health check
    subprocess.run(call, cwd=ROOT, env=env, check=True, capture_output=True, timeout=60)

    def worker_reported():
        scraped = samples(requests.get(f"{url}/metrics", timeout=5).text)
        return (
            value(scraped, "liveroom_sweeper_passes_total", result="ok") == 1
            and value(scraped, "liveroom_stream_health_checks_total", result="ok") == 1
            and value(
                scraped,
                "liveroom_cloud_call_duration_seconds_count",
                action="DescribeLiveStreamOnlineList",
                result="ok",
            )
            == 1
        )

    wait_for(worker_reported, message=f"the Celery worker's passes never reached /metrics; {log.name}")
