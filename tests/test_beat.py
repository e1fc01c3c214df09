"""Periodic tasks run once per interval even when two beat processes send them (infra/beat.py)."""

import pytest

from callbacks.tasks import prune_callback_log
from infra import beat

pytestmark = pytest.mark.django_db


def test_a_second_send_within_the_interval_is_skipped():
    assert prune_callback_log.apply(kwargs={"interval": 60}).get() == 0
    assert prune_callback_log.apply(kwargs={"interval": 60}).get() == {"skipped": "already ran in this interval"}


def test_by_hand_it_always_runs():
    assert prune_callback_log() == 0
    assert prune_callback_log() == 0


def test_the_claim_expires_before_the_next_interval(settings):
    from infra.redis import get_redis, key

    assert beat.claim("probe", 10)
    assert not beat.claim("probe", 10)
    assert 8_500 <= get_redis().pttl(key("beat", "probe")) <= 9_000


def test_every_beat_entry_sends_its_period(settings):
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        if name != "flush-counters":  # flushes may overlap (rooms.counters)
            assert entry["kwargs"] == {"interval": entry["schedule"]}, name


def test_without_redis_every_send_runs(settings):
    settings.REDIS_URL = None
    assert beat.claim("probe", 10) and beat.claim("probe", 10)
