from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.views import RegisterView, TokenView
from api import schema  # noqa: F401 - registers its drf-spectacular extension before the schema is built
from api.errors import api_not_found
from moderation.views import ReportView
from monitoring.admin import operations_view
from monitoring.views import metrics_view

from .views import NoopView, healthz

handler400 = "api.errors.bad_request"
handler404 = "api.errors.not_found"
handler500 = "api.errors.server_error"

api_v1 = [
    path("auth/register/", RegisterView.as_view(), name="register"),
    path("auth/token/", TokenView.as_view(), name="token"),
    re_path(r"^rooms/(?P<pk>[0-9]{1,18})/report/$", ReportView.as_view(), name="room-report"),
    path("", include("events.urls")),
    path("", include("rooms.urls")),
]

urlpatterns = [
    path("admin/operations/", operations_view, name="operations"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    re_path(r"^api/", api_not_found),  # JSON 404s under /api/, in DEBUG too
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("callbacks/", include("callbacks.urls")),
    path("", include("xiaozhibo.urls")),
    path("", include("rooms.web_urls")),
]
if settings.BENCH_ENDPOINT:
    urlpatterns.insert(0, path("api/v1/bench/noop/", NoopView.as_view(), name="bench-noop"))
