import pytest

pytestmark = pytest.mark.django_db


def test_register_returns_token_and_user(api):
    r = api.post(
        "/api/v1/auth/register/", {"username": "alice", "password": "correct-horse-9", "nickname": "Al"}, format="json"
    )
    assert r.status_code == 201
    assert r.json()["user"] == {"id": r.json()["user"]["id"], "username": "alice", "nickname": "Al"}
    me = api.get("/api/v1/rooms/mine/", HTTP_AUTHORIZATION=f"Token {r.json()['token']}")
    assert me.status_code == 200


def test_register_refuses_taken_username(api, streamer):
    r = api.post("/api/v1/auth/register/", {"username": "streamer", "password": "correct-horse-9"}, format="json")
    assert r.status_code == 400
    assert r.json()["fields"]["username"] == ["This username is taken."]


def test_register_race_for_one_username_is_a_400_not_a_500(api, monkeypatch):
    """Two sign-ups of one name at once both pass the "taken?" check; the database keeps one."""
    from accounts.serializers import RegisterSerializer

    monkeypatch.setattr(RegisterSerializer, "validate_username", lambda self, value: value)  # both checked first
    body = {"username": "carol", "password": "correct-horse-9"}
    first = api.post("/api/v1/auth/register/", body, format="json")
    second = api.post("/api/v1/auth/register/", body, format="json")
    assert first.status_code == 201
    assert second.status_code == 400 and second.json()["fields"]["username"] == ["This username is taken."]
    login = api.post("/api/v1/auth/token/", body, format="json")
    assert login.json()["token"] == first.json()["token"]


def test_register_refuses_fields_it_does_not_take(api):
    body = {"username": "dave", "password": "correct-horse-9", "is_staff": True}
    r = api.post("/api/v1/auth/register/", body, format="json")
    assert r.status_code == 400 and list(r.json()["fields"]) == ["is_staff"]


def test_register_refuses_weak_password(api):
    r = api.post("/api/v1/auth/register/", {"username": "bob", "password": "123"}, format="json")
    assert r.status_code == 400
    assert "password" in r.json()["fields"]
    assert r.json()["detail"].startswith("password:")


def test_register_requires_fields(api):
    r = api.post("/api/v1/auth/register/", {}, format="json")
    assert r.status_code == 400
    assert set(r.json()["fields"]) == {"username", "password"}


def test_token_login(api, streamer):
    r = api.post("/api/v1/auth/token/", {"username": "streamer", "password": "s3cret-pass-123"}, format="json")
    assert r.status_code == 200 and len(r.json()["token"]) == 40


def test_token_login_with_wrong_password(api, streamer):
    r = api.post("/api/v1/auth/token/", {"username": "streamer", "password": "nope"}, format="json")
    assert r.status_code == 400
    assert r.json()["code"] == "bad_credentials"


def test_bad_token_is_401(api):
    r = api.get("/api/v1/rooms/mine/", HTTP_AUTHORIZATION="Token nope")
    assert r.status_code == 401
    assert r.json()["code"] == "authentication_failed"


def test_malformed_json_is_400(api):
    r = api.post("/api/v1/auth/token/", "{not json", content_type="application/json")
    assert r.status_code == 400
    assert r.json()["code"] == "parse_error"


def test_auth_is_throttled_with_retry_after(api, monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {**ScopedRateThrottle.THROTTLE_RATES, "auth": "2/min"})
    codes = [api.post("/api/v1/auth/token/", {"username": "x", "password": "y"}, format="json") for _ in range(3)]
    assert [r.status_code for r in codes] == [400, 400, 429]
    assert codes[-1].json()["code"] == "throttled"
    assert int(codes[-1]["Retry-After"]) > 0


@pytest.mark.parametrize("proxies, throttled", [(None, True), (1, False)], ids=["default", "behind-one-proxy"])
def test_throttle_counts_the_address_proxies_vouch_for(api, settings, monkeypatch, proxies, throttled):
    """By default a client cannot dodge the throttle by sending its own X-Forwarded-For; behind
    our proxy (DJANGO_NUM_PROXIES=1) the address that proxy appended is the client's."""
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {**ScopedRateThrottle.THROTTLE_RATES, "auth": "2/min"})
    if proxies is not None:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}
    codes = [
        api.post("/api/v1/auth/token/", {"username": "x", "password": "y"}, HTTP_X_FORWARDED_FOR=f"10.0.0.{i}")
        for i in range(3)
    ]
    assert (codes[-1].status_code == 429) is throttled
