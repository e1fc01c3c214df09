"""Tencent's event callbacks: the body's format, its signature, and the typed event it becomes.

`parse(raw)` reads the body, `verify(payload, now=)` checks its signature and times, and
`event_of(payload)` hands on one event: a small dataclass per kind (`Push`, `StreamEnd`,
`Recording`, `Screenshot`, `ImageModeration`, `AudioModeration`, `PushException`), or `Other`
for an event number we do not handle. The rest of the code reads these, never the body.

`Rejected` (an HTTP status, a short code, a detail) for:
- 400: a body that is not a JSON object, lacks `t`, `sign`, `event_type` or `stream_id` (image
  moderation's `streamId` and a missing `event_type` are read as Tencent's sample has them), or
  has a value we cannot store (e.g. an event_type out of range);
- 403: `sign != md5(CALLBACK_KEY + t)`, `t` (an expiry) has passed or lies more than
  CALLBACK_MAX_AHEAD ahead, or an event time lies after `t` or more than CALLBACK_EVENT_MAX_AHEAD
  ahead of our clock.
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum

from django.conf import settings

from .signing import sign_matches


class Kind(IntEnum):
    """Tencent's event numbers of the events we handle."""

    STREAM_END = 0
    PUSH = 1
    RECORDING = 100
    SCREENSHOT = 200
    AUDIO_MODERATION = 315
    IMAGE_MODERATION = 317
    PUSH_EXCEPTION = 321


REQUIRED = ("t", "sign", "event_type", "stream_id")
# Whole numbers, as JSON numbers or decimal text, and their bounds (event_type is stored as an integer).
WHOLE_NUMBERS = {"t": 2**63 - 1, "event_type": 2**31 - 1}
# Longest text kept: the log's columns (a longer stream id names no room of ours anyway).
MAX_LENGTHS = {"stream_id": 128, "sequence": 64}
TIME_FIELDS = ("event_time", "create_time", "start_time", "end_time", "screenshotTime", "sendTime")
SUGGESTIONS = ("block", "review", "pass")


class Rejected(Exception):
    def __init__(self, status, code, detail):
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


@dataclass(frozen=True)
class Event:
    """What every callback carries. `code` is Tencent's event number (a `Kind`, or another);
    `dedupe_key` is the same for a redelivery of the same event (stream, number and identity)."""

    code: int
    stream_id: str
    sequence: str
    event_time: datetime | None
    dedupe_key: str = field(repr=False)


@dataclass(frozen=True)
class Other(Event):
    """An event number we do not handle: logged, answered 200."""


@dataclass(frozen=True)
class Push(Event):
    """The stream started flowing (push begin)."""


@dataclass(frozen=True)
class StreamEnd(Event):
    """The stream stopped (push end)."""


@dataclass(frozen=True)
class Recording(Event):
    file_id: str
    video_url: str
    format: str
    started_at: datetime | None
    ended_at: datetime | None
    duration: int | None
    size: int | None


@dataclass(frozen=True)
class Screenshot(Event):
    url: str  # "" when the body names none


@dataclass(frozen=True)
class Verdict:
    """Tencent's moderation verdict. `suggestion`: block / review / pass (none given: pass for a
    Normal label, else review, so a person looks); `scores`: one per type, 0-100."""

    suggestion: str
    label: str
    sub_label: str
    labels: list[str]
    scores: list[int]
    score: int | None


@dataclass(frozen=True)
class ImageModeration(Event):
    image_url: str  # "" unless an http(s) URL
    verdict: Verdict


@dataclass(frozen=True)
class AudioModeration(Event):
    text: str
    verdict: Verdict


@dataclass(frozen=True)
class PushException(Event):
    """Event 321: Tencent saw something wrong in the push (timestamps, frame gaps, codecs)."""

    exception_type: int | None
    detail: str
    count: int | None
    at: datetime | None


def parse(raw: bytes) -> dict:
    """The body as a dict of checked values; `Rejected` (400) for one we cannot take."""
    try:
        payload = json.loads(raw)
    except ValueError:
        raise Rejected(400, "bad_json", "The body is not JSON.") from None
    except RecursionError:  # "[" * 100000: the decoder recurses once per level
        raise Rejected(400, "bad_json", "The body is nested too deeply.") from None
    if not isinstance(payload, dict):
        raise Rejected(400, "bad_json", "The body must be a JSON object.")
    _moderation_quirks(payload)
    missing = [name for name in REQUIRED if payload.get(name) in (None, "")]
    if missing:
        raise Rejected(400, "missing_fields", f"Missing fields: {', '.join(missing)}.")
    for name, maximum in WHOLE_NUMBERS.items():
        payload[name] = _whole_number(payload[name], name, maximum)
    if not isinstance(payload["stream_id"], str) or not isinstance(payload["sign"], str):
        raise Rejected(400, "invalid", "stream_id and sign must be strings.")
    for name, limit in MAX_LENGTHS.items():
        if len(str(payload.get(name) or "")) > limit:
            raise Rejected(400, "invalid", f"{name} is longer than {limit} characters.")
    return payload


def named(payload) -> tuple:
    """The stream id and event number a (possibly refused) body names, as it has them, or None."""
    if not isinstance(payload, dict):
        return None, None
    return payload.get("stream_id"), payload.get("event_type")


def _moderation_quirks(payload):
    """Image moderation (event 317) names its stream `streamId`, and Tencent's own sample lacks
    `event_type` and spells `score` as `socre`: take them as meant. A sign is still required."""
    if payload.get("stream_id") in (None, "") and isinstance(payload.get("streamId"), str):
        payload["stream_id"] = payload["streamId"]
    if (
        payload.get("event_type") in (None, "")
        and "suggestion" in payload
        and ("streamId" in payload or "img" in payload)
    ):
        payload["event_type"] = Kind.IMAGE_MODERATION.value
    if "score" not in payload and "socre" in payload:
        payload["score"] = payload["socre"]


def _whole_number(value, name, maximum):
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= len(str(maximum)):
        value = int(value)
    if type(value) is not int or not 0 <= value <= maximum:
        raise Rejected(400, "invalid", f"{name} must be a whole number from 0 to {maximum}.")
    return value


def verify(payload, *, now):
    """`Rejected` (403) unless the sign matches, `t` is current and no event time is implausible."""
    t = payload["t"]
    if not sign_matches(settings.TENCENT_LIVE_CALLBACK_KEY, t, payload["sign"]):
        raise Rejected(403, "bad_sign", "sign does not match md5(key + t).")
    if t < now:
        raise Rejected(403, "expired", "t (the callback's expiry) has passed.")
    if t > now + settings.CALLBACK_MAX_AHEAD:
        raise Rejected(403, "t_too_far_ahead", "t lies too far in the future.")
    # The sign covers t only: a captured (t, sign) may carry a forged body, dated to look newer
    # than every genuine event. No genuine event is dated after its own expiry or ahead of us.
    for name, seconds in _event_times(payload):
        if seconds > t:
            raise Rejected(403, "event_after_t", f"{name} lies after t (the callback's expiry).")
        if seconds > now + settings.CALLBACK_EVENT_MAX_AHEAD:
            raise Rejected(403, "event_time_ahead", f"{name} lies too far ahead of our clock.")


def _event_times(payload):
    """`(field, Unix seconds)` of each time the body carries (image moderation's may be in ms)."""
    times = ((name, _count(payload.get(name))) for name in TIME_FIELDS)
    return [(name, _ms_to_s(name, value)) for name, value in times if value is not None]


def _ms_to_s(name, value):
    return value // 1000 if name in ("screenshotTime", "sendTime") and value > 10**11 else value


def event_of(payload) -> Event:
    """The typed event of a parsed, verified body."""
    code = payload["event_type"]
    time_field = {
        Kind.RECORDING: "end_time",
        Kind.SCREENSHOT: "create_time",
        Kind.IMAGE_MODERATION: "screenshotTime",
    }.get(code, "event_time")
    moment = payload.get(time_field)
    if code == Kind.IMAGE_MODERATION and (_count(moment) or 0) > 10**11:
        moment = _count(moment) // 1000  # in milliseconds
    common = {
        "code": code,
        "stream_id": payload["stream_id"],
        "sequence": str(payload.get("sequence") or ""),
        "event_time": _time(moment),
        "dedupe_key": _dedupe_key(code, payload),
    }
    build = KINDS.get(code)
    return build(payload, common) if build else Other(**common)


def _dedupe_key(code, payload):
    """Same stream, event number and identity (sequence + event time; the file for recordings and
    screenshots; the screenshot time for image moderation; the report time for push exceptions)."""
    identity = {
        Kind.RECORDING: ("file_id", "video_url"),
        Kind.SCREENSHOT: ("pic_url", "create_time"),
        Kind.IMAGE_MODERATION: ("screenshotTime",),
        Kind.AUDIO_MODERATION: ("event_time", "asr_text"),
        Kind.PUSH_EXCEPTION: ("sequence", "data_time"),
    }.get(code)
    names = identity or ("event_time",)
    parts = [payload.get(name) for name in names]
    if not identity:
        parts.insert(0, str(payload.get("sequence") or ""))
    return hashlib.sha256(repr((payload["stream_id"], code, *parts)).encode()).hexdigest()


def _recording(p, common):
    return Recording(
        **common,
        file_id=str(p.get("file_id") or ""),
        video_url=str(p.get("video_url") or ""),
        format=str(p.get("file_format") or ""),
        started_at=_time(p.get("start_time")),
        ended_at=_time(p.get("end_time")),
        duration=_count(p.get("duration")),
        size=_count(p.get("file_size")),
    )


def _screenshot(p, common):
    url = p.get("pic_full_url") or p.get("pic_url")
    return Screenshot(**common, url=str(url) if url else "")


def _image_moderation(p, common):
    return ImageModeration(**common, image_url=_http_url(p.get("img")), verdict=_verdict(p))


def _audio_moderation(p, common):
    return AudioModeration(**common, text=str(p.get("asr_text") or "")[:5000], verdict=_verdict(p))


def _push_exception(p, common):
    abnormal = p.get("abnormal_event")
    abnormal = abnormal if isinstance(abnormal, dict) else {}
    details = abnormal.get("detail")
    first = details[0] if isinstance(details, list) and details and isinstance(details[0], dict) else {}
    text = abnormal.get("type_desc_en") or first.get("desc") or abnormal.get("type_desc_cn") or ""
    return PushException(
        **common,
        exception_type=_count(abnormal.get("type")),
        detail=str(text),
        count=_count(abnormal.get("count")),
        at=_time((_count(p.get("data_time")) or 0) // 1000 or None),
    )


KINDS = {
    Kind.PUSH: lambda p, common: Push(**common),
    Kind.STREAM_END: lambda p, common: StreamEnd(**common),
    Kind.RECORDING: _recording,
    Kind.SCREENSHOT: _screenshot,
    Kind.IMAGE_MODERATION: _image_moderation,
    Kind.AUDIO_MODERATION: _audio_moderation,
    Kind.PUSH_EXCEPTION: _push_exception,
}


def _verdict(p):
    label = str(p.get("label") or "")[:64]
    suggestion = str(p.get("suggestion") or "").lower()
    if suggestion not in SUGGESTIONS:
        suggestion = "pass" if label.lower() in ("", "normal") else "review"
    scores = [_count(s) for s in _as_list(p.get("score"))]
    scores = [min(s, 100) for s in scores if s is not None]
    return Verdict(
        suggestion=suggestion,
        label=label,
        sub_label=str(p.get("subLabel") or p.get("sub_label") or "")[:64],
        labels=[str(t)[:64] for t in _as_list(p.get("type"))][:20],
        scores=scores[:20],
        score=max(scores, default=None),
    )


def _as_list(value):
    if value in (None, ""):
        return []
    return value if isinstance(value, list) else [value]


def _http_url(value):
    url = str(value or "")
    return url if url.startswith(("http://", "https://")) and len(url) <= 1000 else ""


def _time(value):
    seconds = _count(value)
    try:
        return datetime.fromtimestamp(seconds, UTC) if seconds is not None else None
    except (OverflowError, ValueError, OSError):  # beyond the year 9999: not a time
        return None


def _count(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None
