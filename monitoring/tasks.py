from celery import shared_task

from . import health


@shared_task(ignore_result=True)
def check_stream_health():
    """Stream health of every online stream (beat, every SWEEP_INTERVAL): one DescribeLiveStreamPushInfoList call."""
    return health.check()
