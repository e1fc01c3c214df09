"""`POST /callbacks/tencent/`: verify → parse → dispatch (see SPEC §6).

400 for a body that is not a JSON object, lacks `t`, `sign`, `event_type` or `stream_id` (image
moderation's `streamId` and a missing `event_type` are read as Tencent's sample has them), or
has a value we cannot store (e.g. an event_type out of range); 413 for an oversized body;
403 when `sign != md5(CALLBACK_KEY + t)` or `t` (an expiry) has passed or lies more than
CALLBACK_MAX_AHEAD ahead, or when an event time lies after `t` or more than
CALLBACK_EVENT_MAX_AHEAD ahead of our clock. Anything accepted answers 200 `{"code": 0}`, duplicates and events
we ignore included, so Tencent stops retrying.
"""

import json
import time

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DataError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from livecloud.signing import sign_matches
from liveroom import metrics

from . import handlers

REQUIRED = ("t", "sign", "event_type", "stream_id")
# Whole numbers, as JSON numbers or decimal text, and their bounds (event_type is stored as an integer).
WHOLE_NUMBERS = {"t": 2**63 - 1, "event_type": 2**31 - 1}
# Longest text kept: the log's columns (a longer stream id names no room of ours anyway).
MAX_LENGTHS = {"stream_id": 128, "sequence": 64}


class Rejected(Exception):
    def __init__(self, status, code, detail):
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


@csrf_exempt
def tencent(request):
    if request.method != "POST":
        response = JsonResponse({"code": "method_not_allowed", "detail": "Use POST."}, status=405)
        response["Allow"] = "POST"
        return response
    raw, payload = b"", None
    try:
        raw = _body(request)
        payload = parse(raw)
        verify(payload, now=time.time())
        outcome = handlers.dispatch(payload, raw)
    except Rejected as exc:
        return _refuse(raw, payload, exc)
    except DataError:  # a value that fits no column (e.g. a recording's duration): malformed
        return _refuse(raw, payload, Rejected(400, "invalid", "A field's value is out of range or too long."))
    metrics.callback(payload["event_type"], *handlers.OUTCOME_LABELS[outcome])
    return JsonResponse({"code": 0})


def _body(request):
    try:
        return request.body
    except RequestDataTooBig:
        raise Rejected(413, "too_large", "The body is larger than a Tencent callback can be.") from None


def _refuse(raw, payload, exc):
    handlers.log_rejected(raw, payload, f"{exc.code}: {exc.detail}")
    metrics.callback(payload.get("event_type") if isinstance(payload, dict) else None, "refused", exc.code)
    return JsonResponse({"code": exc.code, "detail": exc.detail}, status=exc.status)


def parse(raw: bytes) -> dict:
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
        payload["event_type"] = 317
    if "score" not in payload and "socre" in payload:
        payload["score"] = payload["socre"]


def _whole_number(value, name, maximum):
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= len(str(maximum)):
        value = int(value)
    if type(value) is not int or not 0 <= value <= maximum:
        raise Rejected(400, "invalid", f"{name} must be a whole number from 0 to {maximum}.")
    return value


def verify(payload, *, now):
    t = payload["t"]
    if not sign_matches(settings.TENCENT_LIVE_CALLBACK_KEY, t, payload["sign"]):
        raise Rejected(403, "bad_sign", "sign does not match md5(key + t).")
    if t < now:
        raise Rejected(403, "expired", "t (the callback's expiry) has passed.")
    if t > now + settings.CALLBACK_MAX_AHEAD:
        raise Rejected(403, "t_too_far_ahead", "t lies too far in the future.")
    # The sign covers t only: a captured (t, sign) may carry a forged body, dated to look newer
    # than every genuine event. No genuine event is dated after its own expiry or ahead of us.
    for name, seconds in handlers.event_times(payload):
        if seconds > t:
            raise Rejected(403, "event_after_t", f"{name} lies after t (the callback's expiry).")
        if seconds > now + settings.CALLBACK_EVENT_MAX_AHEAD:
            raise Rejected(403, "event_time_ahead", f"{name} lies too far ahead of our clock.")
