"""`POST /callbacks/tencent/`: verify → parse → dispatch (see SPEC §6).

`livecloud.callback_events` reads and verifies the body (400 for one we cannot take, 403 for a
bad sign or implausible times; see there) and hands on a typed event; 413 for an oversized body.
Anything accepted answers 200 `{"code": 0}`, duplicates and events we ignore included, so
Tencent stops retrying.
"""

import time

from django.core.exceptions import RequestDataTooBig
from django.db import DataError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from livecloud import callback_events as cloud_events
from livecloud.callback_events import Rejected
from monitoring import metrics

from . import handlers


@csrf_exempt
def tencent(request):
    if request.method != "POST":
        response = JsonResponse({"code": "method_not_allowed", "detail": "Use POST."}, status=405)
        response["Allow"] = "POST"
        return response
    raw, payload = b"", None
    try:
        raw = _body(request)
        payload = cloud_events.parse(raw)
        cloud_events.verify(payload, now=time.time())
        event = cloud_events.event_of(payload)
        outcome = handlers.dispatch(event, raw)
    except Rejected as exc:
        return _refuse(raw, payload, exc)
    except DataError:  # a value that fits no column (e.g. a recording's duration): malformed
        return _refuse(raw, payload, Rejected(400, "invalid", "A field's value is out of range or too long."))
    metrics.callback(event.code, *handlers.OUTCOME_LABELS[outcome])
    return JsonResponse({"code": 0})


def _body(request):
    try:
        return request.body
    except RequestDataTooBig:
        raise Rejected(413, "too_large", "The body is larger than a Tencent callback can be.") from None


def _refuse(raw, payload, exc):
    handlers.log_rejected(raw, payload, f"{exc.code}: {exc.detail}")
    metrics.callback(cloud_events.named(payload)[1], "refused", exc.code)
    return JsonResponse({"code": exc.code, "detail": exc.detail}, status=exc.status)
