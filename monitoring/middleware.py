import time

from django.core.exceptions import MiddlewareNotUsed

from monitoring import metrics


class RequestMetricsMiddleware:
    """Times every request and counts it by view (the URL's name, never the path), method and status."""

    def __init__(self, get_response):
        if not metrics.enabled():
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        view = (match.view_name or "unnamed") if match else "unresolved"
        metrics.request_done(
            view,
            request.method if request.method in METHODS else "other",
            response.status_code,
            time.perf_counter() - started,
        )
        return response


METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
