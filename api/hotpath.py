"""The hottest anonymous requests skip the part of the middleware stack that has nothing to do
for them.

A phone refreshing the list, a viewer's heartbeat, a like, a Xiaozhibo app's FetchList or
ChangeCount carry no session cookie and no Authorization header. For them the session, CSRF,
authentication, messages and login-lockout middleware do nothing but cost time (a request object
per storage, lazy users, header parsing): together about a quarter of such a request's CPU. So
`HotPathMiddleware`, placed below the middleware every answer needs (security headers, static
files, metrics, cache headers, X-Frame-Options), resolves the path itself and, for the views named
in `HOT_VIEWS` and a request without credentials, calls the view directly; what the skipped
middleware would have added is added here: an anonymous `request.user`, a database or Redis
failure answered 503 JSON (`DependencyErrorsMiddleware`), Content-Length (`CommonMiddleware`),
`Vary: Cookie` once the user was read (`SessionMiddleware`).
Anything else, or a request with credentials, goes down the whole stack as usual.

Turn it off with HOT_PATH=off (the answers are the same either way; tests compare them).
"""

from functools import lru_cache

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import Resolver404, get_resolver
from django.utils.cache import patch_vary_headers
from django.utils.functional import SimpleLazyObject

from api.errors import dependency_failure, unavailable_response

HOT_PATH = "api.hotpath.HotPathMiddleware"  # as MIDDLEWARE names it
# URL names (`liveroom.urls` and the apps' urls) whose anonymous requests take the hot path.
HOT_VIEWS = {
    "room-list": "GET",
    "room-detail": "GET",
    "room-join": "POST",
    "room-heartbeat": "POST",
    "room-leave": "POST",
    "room-like": "POST",
    "xiaozhibo": "POST",
}
PREFIXES = ("/api/v1/rooms/", "/interface.php")


def has_credentials(request):
    """True when `request` carries a Token or a session cookie: only then can who sends it matter."""
    return "HTTP_AUTHORIZATION" in request.META or settings.SESSION_COOKIE_NAME in request.COOKIES


def _anonymous(request):
    """What AuthenticationMiddleware gives a request without a session; reading it makes the
    answer depend on the cookie (`Vary: Cookie`), as reading the session would."""
    request._hot_user_read = True
    return AnonymousUser()


@lru_cache(maxsize=4096)
def resolve(path):
    """The ResolverMatch of `path`, or None; hot rooms' paths repeat, so they are remembered
    (a match is never changed after resolving, as Django's own handler shares it too)."""
    try:
        return get_resolver().resolve(path)
    except Resolver404:
        return None


@receiver(setting_changed)
def _forget_paths(setting, **kwargs):
    if setting == "ROOT_URLCONF":  # as Django forgets its resolvers
        resolve.cache_clear()


class HotPathMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        match = self._hot_match(request)
        if match is None:
            return self.get_response(request)
        request.resolver_match = match
        request.user = SimpleLazyObject(lambda: _anonymous(request))
        try:
            response = match.func(request, *match.args, **match.kwargs)
            if callable(getattr(response, "render", None)):  # a DRF Response
                response = response.render()
        except Exception as exc:
            failure = dependency_failure(exc)
            if failure is None:
                raise  # answered as any view's exception is (Django's handlers)
            response = unavailable_response(failure)
        if getattr(request, "_hot_user_read", False):
            patch_vary_headers(response, ("Cookie",))  # as SessionMiddleware does once the user was read
        if not response.streaming and not response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        return response

    @staticmethod
    def _hot_match(request):
        path = request.path_info
        if not path.startswith(PREFIXES) or request.method not in ("GET", "POST"):
            return None
        if has_credentials(request):
            return None
        match = resolve(path)
        if match is None or HOT_VIEWS.get(match.url_name) != request.method:
            return None
        return match
