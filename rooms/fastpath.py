"""Answers to the hottest reads, given before DRF's request handling, which they do not need:
a cached list page or live room (no user, permission or throttle is involved; the body is fixed
bytes). Anything else returns None and DRF handles the request as usual (another format asked
for, a miss). The counter actions have views of their own (`rooms.counter_views`).
"""

from api import httpcache
from api.hotpath import has_credentials
from infra.redis import UNREACHABLE

from . import listcache


def answer(view, request, pk):
    """The response, or None to let DRF handle the request. Sets `view.response_cache`, the
    cache entry a list or retrieve should fill after a miss (None when caching does not apply)."""
    view.response_cache = None
    if request.method == "GET" and _plain_json(request):
        action = view.action_map.get("get")
        if action == "list":
            view.response_cache = listcache.PageCache.for_request(request)
        elif action == "retrieve":
            view.response_cache = listcache.RoomCache.for_room(pk)
            if has_credentials(request):
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


def _plain_json(request):
    """True when DRF would answer JSON whatever its renderers (no other format asked for)."""
    accept = request.META.get("HTTP_ACCEPT", "*/*")
    return (accept == "*/*" or accept.startswith("application/json")) and "format=" not in request.META.get(
        "QUERY_STRING", ""
    )
