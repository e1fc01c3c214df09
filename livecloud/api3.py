"""Tencent Cloud Live API 3.0 through the official SDK (`tencentcloud-sdk-python-live`)."""

import math
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.live.v20180801 import live_client, models

from monitoring import metrics

from .errors import CloudError
from .push_info import PushInfo, positive, resolution

DEFAULT_ENDPOINT = "https://live.tencentcloudapi.com"
STATES = ("active", "inactive", "forbid")
TRANSPORT_CODES = ("ClientNetworkError", "ServerNetworkError")
RETRYABLE_PREFIXES = ("InternalError", "RequestLimitExceeded")
RETRYABLE_CODES = {"LimitExceeded.RateLimitExceeded", "FailedOperation.CallOtherSvrFailed", "ResourceUnavailable"}


def is_retryable(code: str) -> bool:
    return code in RETRYABLE_CODES or code.split(".")[0] in RETRYABLE_PREFIXES


def cloud_error(exc: TencentCloudSDKException) -> CloudError:
    code, message = exc.get_code() or "", exc.get_message()
    if isinstance(message, bytes):
        message = message.decode(errors="replace")
    if code in TRANSPORT_CODES:
        return CloudError(f"Tencent Cloud Live API unreachable ({code}): {message}"[:500], retryable=True)
    return CloudError(f"Tencent Cloud Live API error: {message}", code=code, retryable=is_retryable(code))


class Api3Client:
    """online_streams / stream_state / forbid / resume / drop over API 3.0.

    Every call has a timeout (`timeout` seconds) and raises `CloudError` on any failure,
    including an answer the SDK could not make sense of.
    """

    # DescribeLiveStreamOnlineList accepts up to 300000: one call fetches every online stream.
    online_page_size = 300_000
    # DescribeLiveStreamPushInfoList: up to 100,000 a page (mainland site; 1,000 on the international one).
    push_info_page_size = 100_000

    def __init__(self, *, secret_id, secret_key, endpoint, domain, app_name, timeout):
        url = urlsplit(endpoint or DEFAULT_ENDPOINT)
        # The scheme must go into the constructor: setting `protocol` afterwards is ignored.
        profile = HttpProfile(protocol=url.scheme or "https", endpoint=url.netloc or url.path, reqTimeout=timeout)
        self._client = live_client.LiveClient(
            credential.Credential(secret_id, secret_key), "", ClientProfile(httpProfile=profile)
        )
        self.domain = domain
        self.app_name = app_name

    @classmethod
    def from_settings(cls, settings):
        return cls(
            secret_id=settings.TENCENT_SECRET_ID,
            secret_key=settings.TENCENT_SECRET_KEY,
            endpoint=settings.TENCENT_LIVE_ENDPOINT,
            domain=settings.TENCENT_LIVE_PUSH_DOMAIN,
            app_name=settings.TENCENT_LIVE_APP_NAME,
            timeout=settings.TENCENT_LIVE_TIMEOUT,
        )

    def _call(self, action, **params):
        request = getattr(models, f"{action}Request")()
        request._deserialize({k: v for k, v in params.items() if v is not None})
        started, error = time.perf_counter(), None
        try:
            return getattr(self._client, action)(request)
        except TencentCloudSDKException as exc:
            error = cloud_error(exc)
            raise error from exc
        finally:
            metrics.cloud_call(action, error, time.perf_counter() - started)

    def _stream(self, stream_id):
        return {"AppName": self.app_name, "DomainName": self.domain, "StreamName": stream_id}

    def _pages(self, action, items, page_size, **params):
        """The `items` of every page of a listing action: one call, more only if it pages."""
        page, pages = 1, 1
        while page <= pages:
            response = self._call(action, **params, PageNum=page, PageSize=page_size)
            if response.TotalNum is None or getattr(response, items) is None:
                raise CloudError(f"{action}: unreadable answer", retryable=True)
            yield from getattr(response, items)
            pages = response.TotalPage or math.ceil(response.TotalNum / page_size)
            page += 1

    def online_streams(self) -> set[str]:
        """Every stream online now: one DescribeLiveStreamOnlineList call, more only if it pages."""
        listing = self._pages(
            "DescribeLiveStreamOnlineList",
            "OnlineInfo",
            self.online_page_size,
            AppName=self.app_name,
            DomainName=self.domain,
        )
        return {info.StreamName for info in listing}

    def push_info(self) -> list[PushInfo]:
        """Health of every online stream: one DescribeLiveStreamPushInfoList call, more only if it pages."""
        listing = self._pages(
            "DescribeLiveStreamPushInfoList",
            "DataInfoList",
            self.push_info_page_size,
            PushDomain=self.domain,
            AppName=self.app_name,
        )
        return [
            PushInfo(
                stream_id=info.StreamName,
                fps=positive(info.VideoFps),
                kbps=positive(info.VideoSpeed, int),
                resolution=resolution(info.Resolution),
                declared_fps=positive(info.MetaFps),
                declared_kbps=positive(info.MetaVideoSpeed, int),
            )
            for info in listing
        ]

    def stream_state(self, stream_id) -> str:
        """ "active", "inactive" or "forbid" (DescribeLiveStreamState)."""
        state = self._call("DescribeLiveStreamState", **self._stream(stream_id)).StreamState
        if state not in STATES:
            raise CloudError(f"DescribeLiveStreamState: unexpected state {state!r}", retryable=True)
        return state

    def forbid(self, stream_id, *, resume_at: datetime | None, reason: str) -> None:
        """ForbidLiveStream until `resume_at` (Tencent's default, 7 days, when None)."""
        resume = resume_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if resume_at else None
        self._call("ForbidLiveStream", **self._stream(stream_id), ResumeTime=resume, Reason=reason or None)

    def resume(self, stream_id) -> None:
        """ResumeLiveStream: pushing is allowed again."""
        self._call("ResumeLiveStream", **self._stream(stream_id))

    def drop(self, stream_id) -> None:
        """DropLiveStream: cut the current push (the streamer may push again). Succeeds when inactive."""
        self._call("DropLiveStream", **self._stream(stream_id))
