"""Password guessing: failed logins for one username from one address lock that pair out,
counted across the token endpoint, /login/ and /admin/login/ (django-axes, database handler:
each test's attempts roll back with it)."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.test import Client

pytestmark = pytest.mark.django_db
PASSWORD = "s3cret-pass-123"
TOKEN = "/api/v1/auth/token/"
LIMIT = 5
LOCKOUT = 15 * 60


@pytest.fixture(autouse=True)
def limits(settings):
    assert settings.AXES_FAILURE_LIMIT == LIMIT
    assert settings.AXES_COOLOFF_TIME.total_seconds() == LOCKOUT


def web_login(client, username, password, path="/login/", **extra):
    return client.post(path, {"username": username, "password": password}, **extra)


def token_login(api, username, password, **extra):
    return api.post(TOKEN, {"username": username, "password": password}, format="json", **extra)


def logged_in(client):
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_login_form_locks_out_after_repeated_failures(path, make_user):
    make_user("sam", is_staff=True)
    client = Client()
    for _ in range(LIMIT - 1):
        response = web_login(client, "sam", "wrong-guess", path)
        assert response.status_code == 200 and b"correct username and password" in response.content
    locked = web_login(client, "sam", "wrong-guess", path)
    assert locked.status_code == 429 and locked["Retry-After"] == str(LOCKOUT)
    assert "Too many failed logins for this username from your address. Try again in 15 minutes." in (
        locked.content.decode()
    )
    right = web_login(client, "sam", PASSWORD, path)  # the right password does not help now
    assert right.status_code == 429 and not logged_in(client)


def test_token_endpoint_answers_a_locked_out_login_with_a_json_429(api, make_user):
    make_user("sam")
    codes = [token_login(api, "sam", "wrong-guess").status_code for _ in range(LIMIT)]
    assert codes == [400] * (LIMIT - 1) + [429]
    response = token_login(api, "sam", PASSWORD)
    assert response.status_code == 429 and response["Retry-After"] == str(LOCKOUT)
    body = response.json()
    assert body["code"] == "locked_out" and body["detail"].startswith("Too many failed logins for this username")
    assert "token" not in body


def test_the_three_doors_share_one_count(api, make_user):
    make_user("sam", is_staff=True)
    client = Client()
    assert token_login(api, "sam", "guess-1").status_code == 400
    assert token_login(api, "sam", "guess-2").status_code == 400
    assert web_login(client, "sam", "guess-3").status_code == 200
    assert web_login(client, "sam", "guess-4", "/admin/login/").status_code == 200
    assert web_login(client, "sam", "guess-5").status_code == 429
    assert token_login(api, "sam", PASSWORD).json()["code"] == "locked_out"
    assert web_login(Client(), "sam", PASSWORD, "/admin/login/").status_code == 429


def test_lockout_is_per_address_and_username(api, make_user):
    make_user("sam")
    make_user("kim")
    for _ in range(LIMIT):
        token_login(api, "sam", "wrong-guess")
    assert token_login(api, "sam", PASSWORD).status_code == 429
    assert token_login(api, "kim", PASSWORD).status_code == 200  # another username from this address
    other_address = token_login(api, "sam", PASSWORD, REMOTE_ADDR="192.0.2.7")
    assert other_address.status_code == 200  # the same username from elsewhere: guessing it cannot lock it


def test_a_success_forgets_earlier_failures(api, make_user):
    make_user("sam")
    for _ in range(LIMIT - 1):
        token_login(api, "sam", "typo")
    assert token_login(api, "sam", PASSWORD).status_code == 200
    codes = [token_login(api, "sam", "typo").status_code for _ in range(LIMIT - 1)]
    assert codes == [400] * (LIMIT - 1)
    assert token_login(api, "sam", PASSWORD).status_code == 200


def test_lockout_ends_after_the_wait(api, make_user):
    make_user("sam")
    for _ in range(LIMIT):
        token_login(api, "sam", "wrong-guess")
    assert token_login(api, "sam", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(seconds=LOCKOUT + 1))
    assert token_login(api, "sam", PASSWORD).status_code == 200


@pytest.mark.parametrize("proxies, locked", [(None, True), (1, False)], ids=["default", "behind-one-proxy"])
def test_lockout_counts_the_address_the_throttles_count(api, make_user, settings, proxies, locked):
    """A client's own X-Forwarded-For is not believed (else each guess could claim a new address);
    behind our proxy (DJANGO_NUM_PROXIES=1) the address that proxy appended is the client's."""
    make_user("sam")
    if proxies is not None:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}
    for i in range(LIMIT):
        token_login(api, "sam", "wrong-guess", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
    assert (token_login(api, "sam", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99").status_code == 429) is locked


def test_attempts_keep_no_password_or_csrf_token(make_user):
    make_user("sam")
    Client().post("/login/", {"username": "sam", "password": "my-secret-guess", "csrfmiddlewaretoken": "tok3n"})
    attempt = AccessAttempt.objects.get()
    assert "my-secret-guess" not in attempt.post_data and "tok3n" not in attempt.post_data
