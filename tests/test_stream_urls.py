import hashlib
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from livecloud import stream_urls


def test_tx_secret_matches_tencent_published_vector():
    assert stream_urls.tx_secret("e12c46f2612d5106e2034781ab261ca3", "test", "5C271099") == (
        "f85a2ab363fe4deaffef9754d79da6fe"
    )


def test_tx_time_is_uppercase_hex_of_expiry():
    assert stream_urls.tx_time(datetime.fromtimestamp(0x5C271099, tz=UTC)) == "5C271099"


def test_push_url_is_signed_with_push_key_and_expires_after_ttl(settings):
    settings.TENCENT_LIVE_PUSH_KEY = "e12c46f2612d5106e2034781ab261ca3"
    settings.TENCENT_LIVE_PUSH_DOMAIN = "push.example.com"
    settings.PUSH_URL_TTL = 3600
    now = datetime.fromtimestamp(0x5C271099 - 3600, tz=UTC)
    url, expires_at = stream_urls.push_url("test", now=now)
    assert url == "rtmp://push.example.com/live/test?txSecret=f85a2ab363fe4deaffef9754d79da6fe&txTime=5C271099"
    assert expires_at == datetime.fromtimestamp(0x5C271099, tz=UTC)


def test_play_urls_unsigned_without_play_key(settings):
    settings.TENCENT_LIVE_PLAY_KEY = None
    settings.TENCENT_LIVE_PLAY_DOMAIN = "play.example.com"
    settings.TENCENT_LIVE_RTMP_PLAY_DOMAIN = ""
    settings.TENCENT_LIVE_PLAY_SCHEME = "https"
    assert stream_urls.play_urls("8888_abc") == {
        "rtmp": "rtmp://play.example.com/live/8888_abc",
        "flv": "https://play.example.com/live/8888_abc.flv",
        "hls": "https://play.example.com/live/8888_abc.m3u8",
    }


def test_rtmp_play_url_goes_to_the_rtmp_play_domain_when_set(settings):
    settings.TENCENT_LIVE_PLAY_DOMAIN = "127.0.0.1:8080"
    settings.TENCENT_LIVE_RTMP_PLAY_DOMAIN = "127.0.0.1:1935"
    settings.TENCENT_LIVE_PLAY_SCHEME = "http"
    urls = stream_urls.play_urls("8888_abc")
    assert urls["rtmp"].startswith("rtmp://127.0.0.1:1935/live/8888_abc")
    assert urls["hls"].startswith("http://127.0.0.1:8080/live/8888_abc.m3u8")


def test_play_urls_signed_with_expiry_rounded_up_to_a_minute(settings):
    settings.TENCENT_LIVE_PLAY_KEY = "play-key"
    settings.PLAY_URL_TTL = 3600
    first = stream_urls.play_urls("8888_abc", now=datetime(2026, 1, 1, 12, 0, 1, tzinfo=UTC))
    later = stream_urls.play_urls("8888_abc", now=datetime(2026, 1, 1, 12, 0, 59, tzinfo=UTC))
    assert first == later  # a cached page hands out the same, still valid URLs
    query = parse_qs(urlsplit(first["hls"]).query)
    expiry = int(query["txTime"][0], 16)
    assert expiry == int(datetime(2026, 1, 1, 13, 1, tzinfo=UTC).timestamp())
    # Tencent's documented signature: txSecret = md5(key + stream name + txTime)
    assert query["txSecret"][0] == hashlib.md5(f"play-key8888_abc{query['txTime'][0]}".encode()).hexdigest()
