"""Push and play URLs with Tencent's anti-leech signature (txSecret / txTime): rooms asks for them here.

txTime is the expiry as uppercase hex Unix time; txSecret = md5(key + stream_id + txTime).
"""

import hashlib
import math
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.utils import timezone


def tx_time(expires_at: datetime) -> str:
    return format(int(expires_at.timestamp()), "X")


def tx_secret(key: str, stream_id: str, txtime: str) -> str:
    return hashlib.md5(f"{key}{stream_id}{txtime}".encode()).hexdigest()


def signed_query(key: str, stream_id: str, expires_at: datetime) -> str:
    txtime = tx_time(expires_at)
    return urlencode({"txSecret": tx_secret(key, stream_id, txtime), "txTime": txtime})


def push_url(stream_id: str, *, now: datetime | None = None) -> tuple[str, datetime]:
    """A signed RTMP push URL and its expiry (now + PUSH_URL_TTL)."""
    now = now or timezone.now()
    expires_at = (now + timedelta(seconds=settings.PUSH_URL_TTL)).replace(microsecond=0)
    query = signed_query(settings.TENCENT_LIVE_PUSH_KEY, stream_id, expires_at)
    base = f"rtmp://{settings.TENCENT_LIVE_PUSH_DOMAIN}/{settings.TENCENT_LIVE_APP_NAME}/{stream_id}"
    return f"{base}?{query}", expires_at


def play_expiry(now: datetime | None = None) -> datetime:
    """PLAY_URL_TTL from now, rounded up to a whole minute so cached pages carry identical URLs."""
    now = now or timezone.now()
    ts = now.timestamp() + settings.PLAY_URL_TTL
    return datetime.fromtimestamp(math.ceil(ts / 60) * 60, tz=now.tzinfo or timezone.utc)


def play_urls(stream_id: str, *, now: datetime | None = None) -> dict[str, str]:
    """RTMP, HTTP-FLV and HLS play URLs; signed with PLAY_KEY when one is set."""
    domain, app = settings.TENCENT_LIVE_PLAY_DOMAIN, settings.TENCENT_LIVE_APP_NAME
    scheme = settings.TENCENT_LIVE_PLAY_SCHEME
    urls = {
        "rtmp": f"rtmp://{settings.TENCENT_LIVE_RTMP_PLAY_DOMAIN or domain}/{app}/{stream_id}",
        "flv": f"{scheme}://{domain}/{app}/{stream_id}.flv",
        "hls": f"{scheme}://{domain}/{app}/{stream_id}.m3u8",
    }
    if settings.TENCENT_LIVE_PLAY_KEY:
        query = signed_query(settings.TENCENT_LIVE_PLAY_KEY, stream_id, play_expiry(now))
        urls = {name: f"{url}?{query}" for name, url in urls.items()}
    return urls
