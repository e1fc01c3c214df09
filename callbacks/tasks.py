from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from liveroom.beat import once_per_interval

from .models import CallbackEvent


@shared_task(ignore_result=True)
@once_per_interval("prune-callback-log")
def prune_callback_log():
    """Delete CallbackEvents older than CALLBACK_LOG_DAYS (Tencent stops redelivering after minutes)."""
    cutoff = timezone.now() - timedelta(days=settings.CALLBACK_LOG_DAYS)
    deleted, _ = CallbackEvent.objects.filter(received_at__lt=cutoff).delete()
    return deleted
