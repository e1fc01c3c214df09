"""HTTP caching (SPEC §14): the one place that decides what a browser, a CDN or the nginx front
may keep.

- Public answers (a list page, a live room: the same for everyone who may see them) go out
  through `public_json(request, body)`: `Cache-Control: public, max-age=T,
  stale-while-revalidate=T` (T = ROOM_LIST_CACHE_TTL; `public, no-cache` when it is 0) and a
  strong `ETag` (a digest of the exact bytes). A request whose `If-None-Match` names it gets a
  304 without a body; on a cached answer that costs the one Redis round trip of the lookup and no
  database query.
- Everything else is personal or not worth keeping: `CacheHeadersMiddleware` gives every answer
  that does not say otherwise `Cache-Control: private, no-store` (the owner's rooms, push URLs,
  anything that depends on the caller, the HTML pages with their CSRF token), and every error
  `no-store`, whatever it said.
"""

import hashlib

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.http import parse_etags

PERSONAL = "private, no-store"
PRIVATE_REVALIDATE = "private, no-cache"
ERROR = "no-store"


def public_cache_control() -> str:
    ttl = settings.ROOM_LIST_CACHE_TTL
    return f"public, max-age={ttl}, stale-while-revalidate={ttl}" if ttl > 0 else "public, no-cache"


def etag(body: bytes) -> str:
    return f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


def public_json(request, body: bytes, tag: str | None = None) -> HttpResponse:
    """A public JSON answer of `body`, or a 304 when the request's If-None-Match names it.
    `tag`: the body's ETag when it is known already."""
    return _json_answer(request, body, tag, public_cache_control())


def private_json(request, body: bytes) -> HttpResponse:
    """A personal JSON answer that only the caller's browser may keep, revalidating each time
    (`private, no-cache` and an ETag): a 304 saves the transfer, not the work."""
    return _json_answer(request, body, None, PRIVATE_REVALIDATE)


def _json_answer(request, body, tag, cache_control):
    tag = tag or etag(body)
    response = HttpResponseNotModified() if _none_match_names(request, tag) else HttpResponse(body)
    if response.status_code == 200:
        response["Content-Type"] = "application/json"
    response["Vary"] = "Accept"  # as DRF's own answers: the body depends on the negotiated format
    response["ETag"] = tag
    response["Cache-Control"] = cache_control
    return response


def _none_match_names(request, tag) -> bool:
    header = request.META.get("HTTP_IF_NONE_MATCH")
    if not header:
        return False
    # If-None-Match compares weakly (RFC 9110 §13.1.2): W/"x" names "x" too.
    return any(t == "*" or t.removeprefix("W/") == tag for t in parse_etags(header))


class CacheHeadersMiddleware:
    """`private, no-store` unless an answer chose otherwise; errors never cacheable."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code >= 400:
            response["Cache-Control"] = ERROR
            if response.has_header("ETag"):
                del response["ETag"]
        elif not response.has_header("Cache-Control"):
            response["Cache-Control"] = PERSONAL
        return response
