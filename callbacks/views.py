"""`POST /callbacks/tencent/`: verify → parse → dispatch (see SPEC §6).

400 for a body that is not a JSON object or lacks `t`, `sign`, `event_type` or `stream_id`;
403 when `sign != md5(CALLBACK_KEY + t)` or `t` (an expiry) has passed or lies more than
CALLBACK_MAX_AHEAD ahead. Anything accepted answers 200 `{"code": 0}`, duplicates and events
we ignore included, so Tencent stops retrying.
"""

import json
import time

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from livecloud.signing import sign_matches

from . import handlers

REQUIRED = ("t", "sign", "event_type", "stream_id")


class Rejected(Exception):
    def __init__(self, status, code, detail):
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


@csrf_exempt
@require_POST
def tencent(request):
    raw, payload = request.body, None
    try:
        payload = parse(raw)
        verify(payload, now=time.time())
    except Rejected as exc:
        handlers.log_rejected(raw, payload, f"{exc.code}: {exc.detail}")
        return JsonResponse({"code": exc.code, "detail": exc.detail}, status=exc.status)
    handlers.dispatch(payload, raw)
    return JsonResponse({"code": 0})


def parse(raw: bytes) -> dict:
    try:
        payload = json.loads(raw)
    except ValueError:
        raise Rejected(400, "bad_json", "The body is not JSON.") from None
    if not isinstance(payload, dict):
        raise Rejected(400, "bad_json", "The body must be a JSON object.")
    missing = [name for name in REQUIRED if payload.get(name) in (None, "")]
    if missing:
        raise Rejected(400, "missing_fields", f"Missing fields: {', '.join(missing)}.")
    for name in ("t", "event_type"):
        if isinstance(payload[name], bool) or not str(payload[name]).isdigit():
            raise Rejected(400, "invalid", f"{name} must be a whole number.")
        payload[name] = int(payload[name])
    if not isinstance(payload["stream_id"], str) or not isinstance(payload["sign"], str):
        raise Rejected(400, "invalid", "stream_id and sign must be strings.")
    return payload


def verify(payload, *, now):
    t = payload["t"]
    if not sign_matches(settings.TENCENT_LIVE_CALLBACK_KEY, t, payload["sign"]):
        raise Rejected(403, "bad_sign", "sign does not match md5(key + t).")
    if t < now:
        raise Rejected(403, "expired", "t (the callback's expiry) has passed.")
    if t > now + settings.CALLBACK_MAX_AHEAD:
        raise Rejected(403, "t_too_far_ahead", "t lies too far in the future.")
