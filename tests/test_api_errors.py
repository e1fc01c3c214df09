"""Every error under /api/ is JSON `{"code", "detail"}` with a fitting status (SPEC §4)."""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from rooms.models import Room

pytestmark = pytest.mark.django_db
URL = "/api/v1/rooms/"


def assert_error(response, status, code):
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == code and body["detail"]
    return body


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
@pytest.mark.parametrize("path", ["/api/v1/nothing/", "/api/v1/rooms/abc/", "/api/v2/rooms/", "/api/"])
def test_unknown_api_url_is_json_404(api, settings, debug, path):
    settings.DEBUG = debug
    assert_error(api.get(path), 404, "not_found")


def test_api_url_without_its_slash_redirects_a_get_keeping_the_query(api):
    r = api.get("/api/v1/rooms", {"page_size": 5})
    assert r.status_code == 301 and r["Location"] == "/api/v1/rooms/?page_size=5"


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_api_write_without_its_slash_names_the_right_url(streamer, settings, debug):
    settings.DEBUG = debug  # Django's APPEND_SLASH raises a RuntimeError (500) for a POST in debug
    app = APIClient(enforce_csrf_checks=True)  # as a real client: no CSRF cookie
    app.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=streamer).key}")
    body = assert_error(app.post("/api/v1/rooms", {"title": "x"}, format="json"), 404, "not_found")
    assert body["detail"].endswith("/api/v1/rooms/")
    assert not Room.objects.exists()


def test_method_not_allowed_is_json_405(streamer_api):
    assert_error(streamer_api.put(URL, {"title": "x"}, format="json"), 405, "method_not_allowed")


def test_unsupported_media_type_is_json_415_and_changes_nothing(streamer_api):
    r = streamer_api.post(URL, "title=x", content_type="application/x-www-form-urlencoded")
    assert_error(r, 415, "unsupported_media_type")
    assert not Room.objects.exists()


def test_room_writes_are_throttled_with_retry_after(streamer_api, monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    rates = {**ScopedRateThrottle.THROTTLE_RATES, "room_write": "2/min"}
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)
    answers = [streamer_api.post(URL, {"title": f"Show {i}"}, format="json") for i in range(3)]
    assert [r.status_code for r in answers[:2]] == [201, 201]
    assert_error(answers[2], 429, "throttled")
    assert int(answers[2]["Retry-After"]) > 0
    assert Room.objects.count() == 2


def test_server_error_is_json_500(monkeypatch):
    from accounts.views import TokenView

    def crash(self, request):
        raise RuntimeError("boom")

    monkeypatch.setattr(TokenView, "post", crash)
    r = Client(raise_request_exception=False).post("/api/v1/auth/token/", {}, content_type="application/json")
    assert_error(r, 500, "server_error")


@pytest.mark.parametrize("path", ["/api/v1/auth/token/", "/api/v1/rooms/1/like/"])
def test_oversized_body_is_json_413(settings, path):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"count": 1, "padding": "%s"}' % ("x" * 2000)
    r = Client(raise_request_exception=False).post(path, body, content_type="application/json")
    assert_error(r, 413, "too_large")
