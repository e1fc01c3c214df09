"""A real Celery worker and beat, on the embedded SQLite broker of `make run`, run the sweeper."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from rooms.models import Room

ROOT = Path(__file__).resolve().parent.parent
CELERY = [sys.executable, "-m", "celery", "-A", "liveroom"]

pytestmark = pytest.mark.django_db(transaction=True)


def database_url():
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def test_worker_and_beat_sweep_rooms_on_the_embedded_broker(simulator, make_room, streamer, tmp_path):
    room = make_room(streamer, Room.Status.LIVE)  # its stream is not online at the simulator
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": "",
        "CELERY_BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}",
        "TENCENT_LIVE_ENDPOINT": simulator.url,
        "SWEEP_INTERVAL": "1",
    }
    commands = [
        [*CELERY, "worker", "--loglevel", "INFO", "--concurrency", "1"],
        [*CELERY, "beat", "--loglevel", "INFO", "--schedule", str(tmp_path / "beat-schedule")],
    ]
    logs = [open(tmp_path / f"{name}.log", "w+") for name in ("worker", "beat")]  # noqa: SIM115
    processes = [
        subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        for cmd, log in zip(commands, logs, strict=True)
    ]
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and Room.objects.get(pk=room.pk).offline_strikes == 0:
            assert all(p.poll() is None for p in processes), "a Celery process died"
            time.sleep(0.2)
        assert Room.objects.get(pk=room.pk).offline_strikes >= 1
        assert simulator.calls("DescribeLiveStreamOnlineList")
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for log in logs:
            log.seek(0)
            sys.stdout.write(log.read()[-3000:])
            log.close()
    assert processes[0].returncode == 0, "the worker did not shut down cleanly on SIGTERM to its group"
