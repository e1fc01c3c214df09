"""API 3.0 at `POST /`: TC3-HMAC-SHA256 check, Tencent's envelope and error codes."""

import hmac
import json
import re
import time
import uuid
from datetime import UTC, datetime

from ..signing import tc3_signature
from .core import DEFAULT_BAN, MAX_BAN, iso

VERSION = "2018-08-01"
CLOCK_SKEW = 300
MAX_REASON_BYTES = 2048
AUTHORIZATION = re.compile(
    r"TC3-HMAC-SHA256 Credential=(?P<secret_id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[\w-]+)/tc3_request, "
    r"SignedHeaders=(?P<signed>[\w;-]+), Signature=(?P<signature>[0-9a-f]{64})"
)


class ApiError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def handle(sim, headers, body: bytes):
    """(HTTP status, content type, body bytes) for one API 3.0 request."""
    action = headers.get("X-TC-Action", "")
    params = {}
    delay, fault = sim.api_fault(action)
    try:
        params = _params(body)
        _authenticate(sim.config, headers, body)
        if headers.get("X-TC-Version") != VERSION:
            raise ApiError("NoSuchVersion", f"The requested version `{headers.get('X-TC-Version')}` does not exist.")
        if action not in ACTIONS:
            raise ApiError("InvalidAction", f"The requested action `{action}` does not exist.")
        if fault is not None:
            raise ApiError(fault, "Injected fault.")
        result = ACTIONS[action](sim, params)
        outcome = "ok"
    except ApiError as exc:
        result, outcome = {"Error": {"Code": exc.code, "Message": exc.message}}, exc.code
    sim.record_call(action, params, outcome)
    if delay:
        time.sleep(delay)
    if isinstance(outcome, int):
        return outcome, "text/plain", b"injected HTTP error"
    envelope = {"Response": {**result, "RequestId": str(uuid.uuid4())}}
    # Exactly "application/json": the SDK ignores error bodies under any other Content-Type.
    return 200, "application/json", json.dumps(envelope).encode()


def _params(body):
    try:
        params = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        raise ApiError("InvalidParameter", "The request body is not valid JSON.") from None
    if not isinstance(params, dict):
        raise ApiError("InvalidParameter", "The request body must be a JSON object.")
    return params


def _authenticate(config, headers, body):
    content_type = headers.get("Content-Type", "")
    if content_type != "application/json":
        raise ApiError("InvalidRequest", f"Content-Type {content_type!r} is not supported; use application/json.")
    match = AUTHORIZATION.fullmatch(headers.get("Authorization", ""))
    if not match or match["service"] != "live" or match["signed"] != "content-type;host":
        raise ApiError("AuthFailure.InvalidAuthorization", "The Authorization header is not a valid TC3 signature.")
    if match["secret_id"] != config.secret_id:
        raise ApiError("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
    try:
        timestamp = int(headers.get("X-TC-Timestamp", ""))
    except ValueError:
        raise ApiError("MissingParameter", "The request is missing X-TC-Timestamp.") from None
    if abs(time.time() - timestamp) > CLOCK_SKEW:
        raise ApiError("AuthFailure.SignatureExpire", "The signature expired (X-TC-Timestamp is off by > 5 min).")
    expected = tc3_signature(
        config.secret_key,
        method="POST",
        host=headers.get("Host", ""),
        content_type=content_type,
        query="",
        payload=body,
        timestamp=timestamp,
    )
    if not hmac.compare_digest(expected, match["signature"]):
        raise ApiError("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")


def _text(params, name, *, required=True):
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise ApiError("MissingParameter", f"The request is missing a required parameter `{name}`.")
        return None
    if not isinstance(value, str):
        raise ApiError("InvalidParameter", f"`{name}` must be a string.")
    return value


def _int(params, name, default, low, high):
    value = params.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ApiError("InvalidParameter", f"`{name}` must be an integer.")
    if not low <= value <= high:
        raise ApiError("InvalidParameterValue", f"`{name}` must be between {low} and {high}.")
    return value


def _stream(sim, params):
    """(StreamName, AppName, DomainName) of a single-stream action, checked like the real API."""
    stream_id, app, domain = _text(params, "StreamName"), _text(params, "AppName"), _text(params, "DomainName")
    if domain != sim.config.push_domain:
        raise ApiError("InvalidParameterValue", f"DomainName `{domain}` is not a push domain of this account.")
    return stream_id, app, domain


def describe_online_list(sim, params):
    app, domain = _text(params, "AppName", required=False), _text(params, "DomainName", required=False)
    name = _text(params, "StreamName", required=False)
    page, size = _int(params, "PageNum", 1, 1, 10**6), _int(params, "PageSize", 10, 10, 300_000)
    streams = [
        s
        for s in sim.listed_online()
        if (app is None or s.app == app) and (domain is None or s.domain == domain) and (name in (None, s.stream_id))
    ]
    streams.sort(key=lambda s: (s.published_at, s.stream_id))
    chunk = streams[(page - 1) * size : page * size]
    return {
        "TotalNum": len(streams),
        "TotalPage": -(-len(streams) // size),
        "PageNum": page,
        "PageSize": size,
        "OnlineInfo": [
            {
                "StreamName": s.stream_id,
                "AppName": s.app,
                "DomainName": s.domain,
                "PublishTimeList": [{"PublishTime": iso(s.published_at)}],
                "PushToDelay": 0,
            }
            for s in chunk
        ],
    }


def describe_push_info(sim, params):
    domain, app = _text(params, "PushDomain", required=False), _text(params, "AppName", required=False)
    page, size = _int(params, "PageNum", 1, 1, 10**6), _int(params, "PageSize", 200, 1, 100_000)
    if domain is not None and domain != sim.config.push_domain:
        raise ApiError("InvalidParameterValue", f"PushDomain `{domain}` is not a push domain of this account.")
    infos = [i for i in sim.push_info() if app is None or app == sim.config.app_name]
    chunk = infos[(page - 1) * size : page * size]
    return {
        "DataInfoList": [
            {
                "StreamName": i["stream_id"],
                "AppName": sim.config.app_name,
                "PushDomain": sim.config.push_domain,
                "ClientIp": "127.0.0.1",
                "ServerIp": "127.0.0.1",
                "VideoFps": round(i["fps"] or 0),
                "VideoSpeed": i["kbps"] or 0,
                "AudioFps": 43,
                "AudioSpeed": 128,
                "Resolution": i["resolution"],
                "Vcodec": "H264",
                "Acodec": "AAC",
                "AsampleRate": 44100,
                "MetaFps": round(i["declared_fps"] or 0),
                "MetaVideoSpeed": i["declared_kbps"] or 0,
                "MetaAudioSpeed": 128,
                "BeginPushTime": iso(i["published_at"]),
            }
            for i in chunk
        ],
        "TotalNum": len(infos),
        "TotalPage": -(-len(infos) // size),
        "PageNum": page,
        "PageSize": size,
    }


def describe_state(sim, params):
    stream_id, _, _ = _stream(sim, params)
    return {"StreamState": sim.stream_state(stream_id)}


def forbid(sim, params):
    stream_id, app, domain = _stream(sim, params)
    now = time.time()
    until = now + DEFAULT_BAN
    resume = _text(params, "ResumeTime", required=False)
    if resume is not None:
        try:
            until = datetime.strptime(resume, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
        except ValueError:
            raise ApiError(
                "InvalidParameterValue", "ResumeTime must be UTC ISO 8601, e.g. 2018-11-24T12:00:00Z."
            ) from None
        if not now < until <= now + MAX_BAN:
            raise ApiError("InvalidParameterValue", "ResumeTime must lie in the next 90 days.")
    reason = _text(params, "Reason", required=False) or ""
    if len(reason.encode()) > MAX_REASON_BYTES:
        raise ApiError("InvalidParameterValue", "Reason is longer than 2048 bytes.")
    sim.forbid(stream_id, until=until, reason=reason, app=app, domain=domain)
    return {}


def resume(sim, params):
    stream_id, app, domain = _stream(sim, params)
    sim.resume(stream_id, app=app, domain=domain)
    return {}


def drop(sim, params):
    stream_id, _, _ = _stream(sim, params)
    sim.drop(stream_id)
    return {}


ACTIONS = {
    "DescribeLiveStreamOnlineList": describe_online_list,
    "DescribeLiveStreamState": describe_state,
    "DescribeLiveStreamPushInfoList": describe_push_info,
    "ForbidLiveStream": forbid,
    "ResumeLiveStream": resume,
    "DropLiveStream": drop,
}
