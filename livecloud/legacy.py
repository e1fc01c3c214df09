"""The legacy live-code API (`common_access`): plain GET, `sign = md5(API_KEY + t)`.

It has no resume time: `forbid` disables the stream until `resume` (Tencent caps a disable at
about three months); timed bans are lifted by our own code calling `resume`.
"""

import re
import time

import requests

from monitoring import metrics

from .errors import CloudError
from .push_info import PushInfo, positive
from .signing import md5_sign

DEFAULT_ENDPOINT = "http://fcgi.video.qcloud.com"
# The statistics interfaces (Get_LivePushStat) live on a host of their own and name the account `cmd`.
DEFAULT_STAT_ENDPOINT = "http://statcgi.video.qcloud.com"
STAT_PAGE_SIZE = 300
SIGN_TTL = 60  # `t` is the expiry of the request's signature
RETRYABLE_RETS = {1201, 1202}  # internal error; invalid request or rate limit
NEVER_PUSHED = 20601
DISABLE, ENABLE, CUT = 0, 1, 2
# The signature rides in the query string, which requests and urllib3 put into their errors.
SIGN_IN_QUERY = re.compile(r"\bsign=[^&\s'\")]*")


def redact(text: str) -> str:
    """`text` with any request's `sign` masked: errors end up in logs and admin fields."""
    return SIGN_IN_QUERY.sub("sign=***", text)


class LegacyClient:
    """online_streams / stream_state / forbid / resume / drop over the live-code API.

    Every call has a timeout and raises `CloudError` on any failure.
    """

    def __init__(self, *, appid, api_key, endpoint, timeout):
        self.url = f"{(endpoint or DEFAULT_ENDPOINT).rstrip('/')}/common_access"
        self.stat_url = f"{(endpoint or DEFAULT_STAT_ENDPOINT).rstrip('/')}/common_access"
        self.appid = appid
        self.api_key = api_key
        self.timeout = timeout
        self.session = requests.Session()

    @classmethod
    def from_settings(cls, settings):
        return cls(
            appid=settings.TENCENT_LIVE_APPID,
            api_key=settings.TENCENT_LIVE_API_KEY,
            endpoint=settings.TENCENT_LIVE_ENDPOINT,
            timeout=settings.TENCENT_LIVE_TIMEOUT,
        )

    def _call(self, interface, **params):
        started, error = time.perf_counter(), None
        try:
            return self._request(interface, **params)
        except CloudError as exc:
            error = exc
            raise
        finally:
            metrics.cloud_call(interface, error, time.perf_counter() - started)

    def _request(self, interface, *, accept=(0,), stat=False, **params):
        t = int(time.time()) + SIGN_TTL
        account = {"cmd" if stat else "appid": self.appid}
        query = {**account, "interface": interface, "t": t, "sign": md5_sign(self.api_key, t)}
        query.update({f"Param.{'n' if isinstance(v, int) else 's'}.{k}": v for k, v in params.items()})
        try:
            response = self.session.get(self.stat_url if stat else self.url, params=query, timeout=self.timeout)
        except requests.RequestException as exc:
            # not chained: the original exception's text names the signed URL
            reason = redact(f"{type(exc).__name__}: {exc}")
            raise CloudError(f"{interface}: live API unreachable: {reason}", retryable=True) from None
        if response.status_code != 200:
            text = redact(response.text.strip()[:200])
            raise CloudError(
                f"{interface}: HTTP {response.status_code} {text}",
                code=text if response.status_code < 500 else "",
                retryable=response.status_code >= 500,
            )
        try:
            body = response.json()
            ret = int(body["ret"])
        except (ValueError, KeyError, TypeError) as exc:
            raise CloudError(f"{interface}: unreadable answer", retryable=True) from exc
        if ret not in accept:
            message = redact(str(body.get("message") or body.get("errmsg") or ""))
            raise CloudError(f"{interface}: {message}", code=str(ret), retryable=ret in RETRYABLE_RETS)
        return body

    def online_streams(self) -> set[str]:
        """Every stream online now (Live_Channel_GetLiveChannelList, one call)."""
        output = self._call("Live_Channel_GetLiveChannelList").get("output") or {}
        return {channel["channel_id"] for channel in output.get("channel_list") or []}

    def push_info(self) -> list[PushInfo]:
        """Health of every online stream (Get_LivePushStat, 300 a page): fps and bitrate only; this
        API reports neither the resolution nor what the encoder declared."""
        infos, page, pages = [], 1, 1
        while page <= pages:
            output = self._call("Get_LivePushStat", stat=True, page_no=page, page_size=STAT_PAGE_SIZE).get("output")
            if not isinstance(output, dict):
                raise CloudError("Get_LivePushStat: unreadable answer", retryable=True)
            for entry in output.get("stream_info") or []:
                speed = positive(entry.get("speed"), int)  # bit/s
                infos.append(
                    PushInfo(entry.get("stream_name", ""), positive(entry.get("fps")), speed and speed // 1000)
                )
            pages = -(-(positive(output.get("stream_count"), int) or 0) // STAT_PAGE_SIZE)
            page += 1
        return infos

    def stream_state(self, stream_id) -> str:
        """ "active", "inactive" or "forbid" (Live_Channel_GetStatus)."""
        body = self._call("Live_Channel_GetStatus", accept=(0, NEVER_PUSHED), channel_id=stream_id)
        if int(body["ret"]) == NEVER_PUSHED:
            return "inactive"
        statuses = {entry.get("status") for entry in body.get("output") or []}
        if 3 in statuses:
            return "forbid"
        return "active" if 1 in statuses else "inactive"

    def forbid(self, stream_id, *, resume_at=None, reason="") -> None:
        """Live_Channel_SetStatus 0: cuts the push and refuses new ones until `resume`.

        The legacy API takes neither a resume time nor a reason; both are ignored.
        """
        self._call("Live_Channel_SetStatus", channel_id=stream_id, status=DISABLE)

    def resume(self, stream_id) -> None:
        """Live_Channel_SetStatus 1: pushing is allowed again."""
        self._call("Live_Channel_SetStatus", channel_id=stream_id, status=ENABLE)

    def drop(self, stream_id) -> None:
        """Cut the current push (Live_Channel_SetStatus 2).

        A disabled (forbidden) stream is already cut, and status 2 would re-allow pushing,
        so nothing is sent for it: drop after forbid keeps the ban.
        """
        if self.stream_state(stream_id) == "active":
            self._call("Live_Channel_SetStatus", channel_id=stream_id, status=CUT)
