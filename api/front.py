"""The WSGI front: a cached public answer goes out without the trip through Django's handler.

A cached list page or live room is fixed bytes in Redis, one round trip away. Yet the handler
around that lookup (the request signals, the whole middleware chain, resolving, the view's
dispatch, the response's close) costs more CPU than the lookup itself: a cached list page took
0.27-0.31 ms of CPU through Django and takes 0.19-0.24 ms here, about 0.10 ms of it the Redis
client (README, "The WSGI front"). So `CachedAnswerFront` wraps the WSGI application. A
GET without credentials whose view offers `cached_answer(request, action, **kwargs)` (the room
list and a room's detail: `rooms.fastpath.cached_response`) is looked up first; on a hit, the
answer passes through the middleware above the hot path (`api.hotpath`: security headers,
metrics, cache headers, X-Frame-Options), so it carries every header and is counted as the
whole stack would, and goes out. A miss, a request with credentials, Redis unreachable, an error,
anything else: the Django application answers, as without the front (and handles what the
lookup raised, as any view's exception). After a miss the view fills the entry the front looked
up (`rooms.fastpath.FRONT_MISS`), so the miss costs one lookup, not two.

What a hit leaves out: the request_started / request_finished signals, whose receivers
(`reset_queries`, `close_old_connections`) have nothing to do for a request that touches no
database, and the script prefix, which nothing reads (the body is stored, its links in it).
The front is part of the hot path: HOT_PATH=off turns both off.
"""

import operator

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIRequest
from django.utils.module_loading import import_string

from api.hotpath import HOT_PATH, has_credentials, resolve

PREFIX = "/api/v1/rooms/"  # every view with a cached answer is under it


class CachedAnswerFront:
    def __init__(self, application):
        self.application = application
        self._outer = (None, None)  # (the MIDDLEWARE it was built from, the middleware above the hot path)

    def __call__(self, environ, start_response):
        response = self._cached(environ) if environ.get("REQUEST_METHOD") == "GET" else None
        if response is None:
            return self.application(environ, start_response)
        headers = [*response.items(), *(("Set-Cookie", c.output(header="")) for c in response.cookies.values())]
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        return [response.content]

    def _cached(self, environ):
        """The whole answer to a cached GET, or None for Django to answer."""
        if not environ.get("PATH_INFO", "").startswith(PREFIX) or HOT_PATH not in settings.MIDDLEWARE:
            return None
        request = WSGIRequest(environ)
        match = resolve(request.path_info)
        answer = getattr(getattr(match.func, "cls", None), "cached_answer", None) if match else None
        if answer is None or has_credentials(request):
            return None
        try:
            response = answer(request, match.func.actions.get("get"), **match.kwargs)
        except Exception:  # noqa: BLE001 (Django answers instead, and handles it as any view's exception)
            return None
        if response is None:
            return None
        response["Content-Length"] = str(len(response.content))  # as the hot path gives it
        request.resolver_match, request.front_answer = match, response
        return self._middleware()(request)

    def _middleware(self):
        """The middleware above the hot path, as Django chains it, around the answer found."""
        built_from, chain = self._outer
        if built_from != settings.MIDDLEWARE:
            chain = convert_exception_to_response(operator.attrgetter("front_answer"))
            for path in reversed(settings.MIDDLEWARE[: settings.MIDDLEWARE.index(HOT_PATH)]):
                try:
                    chain = convert_exception_to_response(import_string(path)(chain))
                except MiddlewareNotUsed:
                    continue
            self._outer = (list(settings.MIDDLEWARE), chain)
        return chain
