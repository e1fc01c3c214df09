"""Answers to the hottest reads, given before DRF's request handling, which they do not need:
a cached list page or live room (no user, permission or throttle is involved; the body is fixed
bytes). Anything else returns None and DRF handles the request as usual (another format asked
for, a miss). The counter actions have views of their own (`rooms.counter_views`).
"""

from api import httpcache
from api.hotpath import has_credentials
from infra.redis import UNREACHABLE

from . import listcache

# Where the WSGI front leaves the entry it missed (the request's environ), so that the view
# fills it without looking it up again.
FRONT_MISS = "liveroom.cache_miss"


def answer(view, request, pk):
    """The response, or None to let DRF handle the request. Sets `view.response_cache`, the
    cache entry a list or retrieve should fill after a miss (None when caching does not apply)."""
    if FRONT_MISS in request.META:  # looked up (and claimed, or waited for) by the front already
        view.response_cache = request.META.pop(FRONT_MISS)
        return None
    view.response_cache, body = lookup(request, view.action_map.get("get"), pk)
    return None if body is None else httpcache.public_json(request, body, view.response_cache.etag)


def cached_response(request, action, pk=None):
    """The public answer to a GET of `action` straight from the cache, or None (`api.front`);
    on a miss the entry is left in the request's environ for the view (`FRONT_MISS`)."""
    entry, body = lookup(request, action, pk)
    if body is None:
        request.META[FRONT_MISS] = entry
        return None
    return httpcache.public_json(request, body, entry.etag)


def lookup(request, action, pk=None):
    """(entry, body): the cache entry of a GET of `action` ("list" or "retrieve" of room `pk`) and
    the answer it holds, or None. A list page's miss claims filling the entry, or waits for the
    request that did (`listcache.PageCache.wait`). The entry is None where caching does not apply
    (another format asked for, caching off, a query the list refuses); the body is None on a
    miss, for a caller who may be the room's owner (whose answer carries the stream's health,
    never cached), and while Redis cannot be reached (the entry is None then too: answered from
    the database, and not stored)."""
    if request.method != "GET" or not _plain_json(request):
        return None, None
    if action == "list":
        entry = listcache.PageCache.for_request(request)
    elif action == "retrieve":
        entry = listcache.RoomCache.for_room(pk)
        if entry is not None and has_credentials(request):
            return entry, None
    else:
        return None, None
    if entry is None:
        return None, None
    try:
        if action != "list":
            return entry, entry.get()
        # A page missed while another request fills it: wait for that answer (listcache).
        body = entry.get(claim=True)
        if body is None and not entry.claimed:
            body = entry.wait()
        return entry, body
    except UNREACHABLE:
        return None, None


def _plain_json(request):
    """True when DRF would answer JSON whatever its renderers (no other format asked for)."""
    accept = request.META.get("HTTP_ACCEPT", "*/*")
    return (accept == "*/*" or accept.startswith("application/json")) and "format=" not in request.META.get(
        "QUERY_STRING", ""
    )
