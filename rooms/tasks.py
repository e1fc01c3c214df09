import time

from celery import shared_task

from infra.beat import once_per_interval
from monitoring import metrics

from . import counters, sweeper
from .signals import sweep_finished


@shared_task(ignore_result=True)
def flush_counters():
    """Write pending viewer / like counts to the database, then re-check the Redis live set.

    Beat runs it every COUNTER_FLUSH_INTERVAL. Safe to kill and to overlap (see `rooms.counters`).
    """
    started = time.time()
    written = counters.flush()
    metrics.flush_done(started, written)
    counters.sync_live()
    return written


@shared_task(ignore_result=True)
@once_per_interval("sweep-rooms")
def sweep_rooms():
    """One zombie-sweeper pass (beat, every SWEEP_INTERVAL), then what runs with it (`sweep_finished`:
    the stream health check). Overlapping runs skip themselves."""
    result = sweeper.sweep()
    if result.ran:
        sweep_finished.send(sender=sweeper, result=result)
    return result.as_dict()
