import hmac
import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from monitoring import metrics

from . import exposition


@require_GET
def metrics_view(request):
    """Prometheus' text format, for a bearer METRICS_TOKEN or an address in METRICS_ALLOWED; 404
    for anyone else (the endpoint does not admit it exists)."""
    if not metrics.enabled() or not allowed(request):
        raise Http404("not found")
    response = HttpResponse(exposition.render(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "private, no-store"
    return response


def allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    return any(address in network for network in _networks(tuple(settings.METRICS_ALLOWED)))


def client_address(request) -> str:
    """The connection's address, or behind DJANGO_NUM_PROXIES proxies of ours the address the
    nearest of them saw (a client's own X-Forwarded-For entries are never trusted)."""
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    if proxies and forwarded:
        return forwarded[-min(proxies, len(forwarded))]
    return request.META.get("REMOTE_ADDR", "")


@lru_cache(maxsize=8)
def _networks(addresses):
    return [ipaddress.ip_network(a, strict=False) for a in addresses]
