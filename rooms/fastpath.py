"""Answers to the hottest requests, given before DRF's request handling, which they do not need.

A cached list page or live room (no user, permission or throttle is involved; the body is fixed
bytes), and a join or like with a plain body in Redis mode (it needs no user, and its one Redis
round trip also throttles). Anything else returns None and DRF handles the request as usual:
another format asked for, an odd body. Errors go through the same exception handler, so they look the same.
"""

import json

from django.conf import settings
from django.http import Http404, HttpResponse
from rest_framework.exceptions import Throttled
from rest_framework.renderers import JSONRenderer

from liveroom import httpcache
from liveroom.errors import exception_handler
from liveroom.redis import UNREACHABLE

from . import counters, listcache
from .throttling import CounterThrottle

COUNTED = {"join": "viewer_count", "like": "like_count"}


def answer(view, request, pk):
    """The response, or None to let DRF handle the request. Sets `view.response_cache`, the
    cache entry a list or retrieve should fill after a miss (None when caching does not apply)."""
    view.response_cache = None
    if request.method == "POST" and view.action_map.get("post") in COUNTED and counters.uses_redis():
        return _count(view, request, view.action_map["post"], pk)
    if request.method == "GET" and _plain_json(request):
        action = view.action_map.get("get")
        if action == "list":
            view.response_cache = listcache.PageCache.for_request(request)
        elif action == "retrieve":
            view.response_cache = listcache.RoomCache.for_room(pk)
            if _has_credentials(request):
                return None  # it may be the owner, whose answer carries the stream's health (never cached)
        if view.response_cache is not None and (body := _cached(view)) is not None:
            return httpcache.public_json(request, body, view.response_cache.etag)
    return None


def _cached(view):
    try:
        return view.response_cache.get()
    except UNREACHABLE:  # answered from the database, and not stored
        view.response_cache = None
        return None


def _count(view, request, action, pk):
    amount = _plain_like_count(request) if action == "like" else 1
    if amount is None:
        return None
    field = COUNTED[action]
    try:
        value = counters.increment(int(pk), field, amount, throttle=CounterThrottle().redis_spec(request))
    except counters.Throttled as exc:
        return _error(view, request, Throttled(wait=exc.wait))
    except UNREACHABLE as exc:
        return _error(view, request, exc)  # 503 with Retry-After
    if value is None:
        # answered here: handing over to DRF would run the increment (and its throttle) again
        try:
            error = view.not_live_error(pk)
        except Http404 as missing:
            error = missing
        return _error(view, request, error)
    response = HttpResponse(b'{"%s":%d}' % (field.encode(), value), status=202, content_type="application/json")
    response["Vary"] = "Accept"
    return response


def _error(view, request, exc):
    response = exception_handler(exc, {"view": view, "request": request})
    response.accepted_renderer, response.accepted_media_type = JSONRenderer(), "application/json"
    response.renderer_context = {}
    return response


def _has_credentials(request):
    return "HTTP_AUTHORIZATION" in request.META or settings.SESSION_COOKIE_NAME in request.COOKIES


def _plain_json(request):
    """True when DRF would answer JSON whatever its renderers (no other format asked for)."""
    accept = request.META.get("HTTP_ACCEPT", "*/*")
    return (accept == "*/*" or accept.startswith("application/json")) and "format=" not in request.META.get(
        "QUERY_STRING", ""
    )


def _plain_like_count(request):
    """The `count` of a like body that LikeSerializer would take as it is (none, `{}`, or
    `{"count": n}` with a whole number 1-50); None for any other body."""
    if not request.body:
        return 1
    if request.content_type != "application/json":
        return None
    try:
        data = json.loads(request.body)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.keys() - {"count"}:
        return None  # other fields: the serializer decides what they mean
    count = data.get("count", 1)
    return count if type(count) is int and 1 <= count <= 50 else None
