import logging
import time
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from infra.beat import once_per_interval

from .models import CallbackEvent

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
@once_per_interval("prune-callback-log")
def prune_callback_log():
    """Delete CallbackEvents older than CALLBACK_LOG_DAYS (Tencent stops redelivering after minutes).

    Oldest first, CALLBACK_PRUNE_BATCH rows per statement, so no statement holds the table for
    long; it stops once half the task's soft time limit has passed, so a run after a flood ends
    well inside the limit, and the next run goes on. Returns how many rows were deleted.
    """
    cutoff = timezone.now() - timedelta(days=settings.CALLBACK_LOG_DAYS)
    deadline = time.monotonic() + settings.CELERY_TASK_SOFT_TIME_LIMIT / 2
    batch = settings.CALLBACK_PRUNE_BATCH
    oldest = CallbackEvent.objects.filter(received_at__lt=cutoff).order_by("received_at").values("pk")[:batch]
    deleted = 0
    while count := CallbackEvent.objects.filter(pk__in=oldest).delete()[0]:  # one statement per batch
        deleted += count
        if count < batch:
            break
        if time.monotonic() >= deadline:
            logger.warning("callback log prune: time budget used after %d rows; the next run goes on", deleted)
            break
    return deleted
