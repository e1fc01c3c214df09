"""Password guessing: after LOGIN_FAILURE_LIMIT failed logins for one username from one address,
that pair is locked out for LOGIN_LOCKOUT_SECONDS (django-axes; see README, "Logins").

The three doors share the count: the token endpoint, `/login/` and `/admin/login/`. A locked-out
login is refused even with the right password, and each refused try starts the wait again, so
`Retry-After` (the whole wait) is exact.
"""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from rest_framework.exceptions import Throttled
from rest_framework.throttling import BaseThrottle

MESSAGE = "Too many failed logins for this username from your address."


def lockout_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def wait_text(seconds: int) -> str:
    minutes = -(-seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}" if seconds >= 60 else f"{seconds} seconds"


class LockedOut(Throttled):
    """The token endpoint's answer to a locked-out login: 429 `locked_out` with `Retry-After`."""

    default_code = "locked_out"

    def __init__(self):
        seconds = lockout_seconds()
        super().__init__(wait=seconds, detail=f"{MESSAGE} Try again in {wait_text(seconds)}.")


def is_locked_out(request) -> bool:
    """After a failed `authenticate(request, ...)`: was it refused, or did it lock, the pair?"""
    return bool(getattr(request, "axes_locked_out", False))


def client_address(request) -> str:
    """The address counted: the one the throttles count (X-Forwarded-For only behind
    DJANGO_NUM_PROXIES proxies of ours), so one client cannot dodge either by sending its own."""
    return BaseThrottle().get_ident(request)


def lockout_response(request, original_response=None, credentials=None):
    """The login pages' answer once locked out (AXES_LOCKOUT_CALLABLE): 429, `Retry-After`."""
    seconds = lockout_seconds()
    if request.path.startswith("/api/"):
        response = JsonResponse({"code": "locked_out", "detail": f"{MESSAGE} Try again in {wait_text(seconds)}."})
        response.status_code = 429
    else:
        context = {"message": MESSAGE, "wait": wait_text(seconds), "retry_url": request.get_full_path()}
        response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response
