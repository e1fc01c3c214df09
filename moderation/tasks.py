import logging

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval

import livecloud
from infra.beat import once_per_interval

from . import services

logger = logging.getLogger(__name__)

# Seconds: 5, 10, 20, ... capped at 10 minutes, with full jitter so bans queued together spread out.
BACKOFF_FACTOR = 5
MAX_BACKOFF = 600


@shared_task(bind=True, max_retries=None, acks_late=True)
def enforce_room_ban(self, ban_id):
    """Tell the cloud about a ban or its lifting; retried with backoff until the cloud confirms.

    An error that retrying cannot cure (bad credentials, say) stops the chain; the ban stays
    unconfirmed and `retry_unconfirmed_bans` tries again every few minutes.
    """
    try:
        return services.sync_room_ban(ban_id)
    except livecloud.CloudError as exc:
        if not exc.retryable:
            logger.error("Room ban %s: the cloud refused enforcement: %s", ban_id, exc)
            return False
        countdown = get_exponential_backoff_interval(BACKOFF_FACTOR, self.request.retries, MAX_BACKOFF, True)
        raise self.retry(exc=exc, countdown=countdown) from None


@shared_task
@once_per_interval("lift-expired-bans")
def lift_expired_bans():
    """Timed bans lift themselves (beat)."""
    return services.lift_expired_bans()


@shared_task
@once_per_interval("retry-unconfirmed-bans")
def retry_unconfirmed_bans():
    """Beat: renew cloud forbids about to lapse; enforce bans whose enforcement was lost."""
    renewed = services.renew_cloud_forbids()
    confirmed, unconfirmed = services.retry_stale_cloud_syncs()
    return {"renewed": renewed, "confirmed": confirmed, "unconfirmed": unconfirmed}
