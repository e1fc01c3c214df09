"""`/interface.php`: the single endpoint of the v1 protocol. Always HTTP 200 with the envelope."""

import json
import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from infra.redis import UNREACHABLE

from .actions import HANDLERS
from .protocol import DB_ERROR, INVALID_INPUT, INVALID_JSON, OK, Encoded, ProtocolError, clean, envelope

logger = logging.getLogger(__name__)


@csrf_exempt
def interface(request):
    if not settings.XIAOZHIBO_COMPAT:
        raise Http404
    # the original read the raw body whatever the method; a GET has none, hence 4001
    body = request.body if request.method == "POST" else b""
    answer = dispatch(body, request)
    if isinstance(answer, Encoded):
        return HttpResponse(answer.body, content_type="application/json")
    return JsonResponse(answer)


def dispatch(body, request):
    try:
        data = json.loads(body, parse_constant=_refuse)
    except (ValueError, RecursionError):
        return envelope(INVALID_JSON)
    if not data:  # PHP's `if (!$data)`: {}, [], 0, "" and null count as no body
        return envelope(INVALID_JSON)
    action = data.get("Action") if isinstance(data, dict) else None
    if not action:
        return envelope(INVALID_INPUT)
    handler = HANDLERS.get(action) if isinstance(action, str) else None
    if handler is None:
        return envelope(INVALID_INPUT, msg=f"invalid interface name:{clean(action)}")
    try:
        result = handler(data, request)
        return result if isinstance(result, Encoded) else envelope(OK, result)
    except ProtocolError as exc:
        return envelope(exc.code, detail=exc.detail)
    except (DatabaseError, *UNREACHABLE):  # Redis (the counters) too: the original knew one store
        logger.exception("xiaozhibo %s failed on the database", action)
        return envelope(DB_ERROR, detail=f"{action}::process() fail db operator error")


def _refuse(constant):
    raise ValueError(f"{constant} is not JSON")
