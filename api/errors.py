"""Every API error is JSON `{"code", "detail"}`; validation errors add `fields`."""

import logging
import sys

from django import db
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from infra.redis import UNREACHABLE, unavailable_for

log = logging.getLogger(__name__)

# Paths whose errors are JSON whatever raised them (the API, and Tencent's callbacks).
JSON_PATHS = ("/api/", "/callbacks/")


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class Unavailable(exceptions.APIException):
    """503 with `Retry-After`: a dependency (the database, Redis) cannot be reached right now."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Temporarily unavailable; try again shortly."
    default_code = "unavailable"

    def __init__(self, detail=None, *, wait):
        super().__init__(detail)
        self.wait = wait


# Seconds a client is asked to wait when the database cannot be reached (a restart or failover).
DATABASE_RETRY_AFTER = 5


def dependency_failure(exc) -> Unavailable | None:
    """The 503 to answer for `exc` when it says the database or Redis cannot be reached, else None."""
    if isinstance(exc, db.OperationalError | db.InterfaceError):
        log.warning("database unreachable: %s", exc)
        return Unavailable("Temporarily unavailable (database); try again shortly.", wait=DATABASE_RETRY_AFTER)
    if isinstance(exc, UNREACHABLE):  # logged once per outage, by the circuit breaker
        wait = unavailable_for()
        return Unavailable(f"Temporarily unavailable (live counts); try again in {wait} s.", wait=wait)
    return None


def unavailable_response(exc: Unavailable) -> JsonResponse:
    response = JsonResponse({"code": exc.default_code, "detail": str(exc.detail)}, status=exc.status_code)
    response["Retry-After"] = str(exc.wait)
    return response


class DependencyErrorsMiddleware:
    """A view that fails for want of the database or Redis answers 503 JSON with `Retry-After`,
    pages and the admin included, never Django's error page (in DEBUG too)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        failure = dependency_failure(exception)
        return None if failure is None else unavailable_response(failure)


def _first_messages(fields, prefix=""):
    for name, messages in fields.items():
        label = f"{prefix}{name}"
        if isinstance(messages, dict):
            yield from _first_messages(messages, f"{label}.")
        elif isinstance(messages, list) and messages and isinstance(messages[0], dict):
            for item in messages:
                yield from _first_messages(item, f"{label}.")
        else:
            text = messages[0] if isinstance(messages, list) and messages else messages
            yield text if name == "non_field_errors" else f"{label}: {text}"


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    elif failure := dependency_failure(exc):
        exc = failure
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        codes = exc.get_codes()
        body = {
            "code": "invalid",
            "detail": "; ".join(str(m) for m in _first_messages(fields)),
            "fields": response.data,
        }
        if isinstance(codes, dict) and list(codes) == ["non_field_errors"] and len(codes["non_field_errors"]) == 1:
            body["code"] = codes["non_field_errors"][0]
        elif isinstance(codes, list) and len(codes) == 1:
            body["code"] = codes[0]
        response.data = body
    else:
        code = exc.get_codes()
        response.data = {"code": code if isinstance(code, str) else exc.default_code, "detail": str(exc.detail)}
        extra = getattr(exc, "extra", None)
        if extra:
            response.data.update(extra)
    return response


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return _not_found_json()
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


@csrf_exempt  # it changes nothing, and a POST must learn the right URL, not fail the CSRF check
def api_not_found(request):
    """Every other URL under /api/: a JSON 404, in DEBUG too (Django's debug page is HTML).

    A URL that only lacks its trailing slash is redirected for GET / HEAD, as APPEND_SLASH does,
    and named in the 404 for other methods, whose body a redirect would lose.
    """
    with_slash = f"{request.path}/"
    if request.path.endswith("/") or not _is_api_view(with_slash):
        return _not_found_json()
    if request.method in ("GET", "HEAD"):
        query = request.META.get("QUERY_STRING", "")
        return HttpResponsePermanentRedirect(f"{with_slash}?{query}" if query else with_slash)
    return _not_found_json(f"Not found. The URL ends with a slash: {with_slash}")


def _is_api_view(path):
    try:
        return resolve(path).func is not api_not_found
    except Resolver404:
        return False


def _not_found_json(detail="Not found."):
    return JsonResponse({"code": "not_found", "detail": detail}, status=404)


def bad_request(request, exception=None):
    """Django's own 400s (an oversized body, a suspicious request) seen outside a view's handling."""
    if not request.path.startswith(JSON_PATHS):
        from django.views.defaults import bad_request as default

        return default(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse({"code": "too_large", "detail": "The request body is too large."}, status=413)
    return JsonResponse({"code": "bad_request", "detail": "Bad request."}, status=400)


def server_error(request):
    """Django's 500 handler (DEBUG off): an unreachable dependency, raised outside a view (a
    middleware saving the session, say), is a 503 all the same."""
    failure = dependency_failure(sys.exc_info()[1])
    if failure is not None:
        return unavailable_response(failure)
    if request.path.startswith(JSON_PATHS):
        return JsonResponse({"code": "server_error", "detail": "Internal server error."}, status=500)
    from django.views.defaults import server_error as default

    return default(request)
