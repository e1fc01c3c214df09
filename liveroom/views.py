from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import DATABASE_RETRY_AFTER


def healthz(request):
    """200 when the database (and Redis, when configured) answer; 503 naming what failed, with
    Retry-After. A Redis whose circuit is open fails at once (`infra.breaker`)."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        checks["database"] = f"error: {exc.__class__.__name__}"
    if settings.REDIS_URL:
        from infra.redis import get_redis

        try:
            get_redis().ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"error: {exc.__class__.__name__}"
    failed = [name for name, result in checks.items() if result != "ok"]
    if not failed:
        return JsonResponse({"status": "ok", "checks": checks})
    # The shape of every other 503: a client that handles one handles this.
    body = {"status": "error", "code": "unavailable", "detail": f"Unavailable: {', '.join(failed)}.", "checks": checks}
    response = JsonResponse(body, status=503)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response


class NoopView(APIView):
    """Answers `{"ok": true}` and nothing else: `make bench`'s baseline, served through the whole
    middleware stack and DRF's machinery (never the hot path). Mounted only when BENCH_ENDPOINT is on."""

    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"ok": True})
