import os
import re

import pytest
import requests
from django.conf import settings
from django.test import Client
from rest_framework.authtoken.models import Token

from tests.test_celery_embedded import database_url

from .procs import Processes


@pytest.fixture
def procs(tmp_path):
    started = Processes(tmp_path)
    yield started
    started.stop_all()


@pytest.fixture
def node_env(transactional_db, simulator):
    """The environment of the app's processes: the test database, the simulator, no throttles in the way."""

    def make(redis_url, **extra):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS"))}
        env.update(
            DATABASE_URL=database_url(),
            REDIS_URL=redis_url,
            REDIS_KEY_PREFIX="lr",
            TENCENT_LIVE_ENDPOINT=simulator.url,
            THROTTLE_COUNTER="100000/min",
            THROTTLE_ROOM_WRITE="100000/min",
            THROTTLE_AUTH="100000/min",
            DATABASE_CONN_MAX_AGE="60",
            LOG_LEVEL="WARNING",
        )
        env.update({k: str(v) for k, v in extra.items()})
        return env

    return make


class Moderator:
    """A moderator's browser session in the Django admin of one node, over real HTTP. The session
    is made here (the nodes share the database and secret key), which spares each node a login's
    deliberately slow password check."""

    def __init__(self, base_url, session_cookie, verify=True):
        self.base, self.http = base_url, requests.Session()
        if verify is not True:
            self.http.verify, self.http.trust_env = verify, False
        self.http.cookies.set(settings.SESSION_COOKIE_NAME, session_cookie)
        page = self.http.get(f"{base_url}/admin/rooms/room/", timeout=10)
        assert page.ok and "/admin/login/" not in page.url, page.text[:500]

    def ban(self, room_ids, reason="Spam", duration="24h"):
        url = f"{self.base}/admin/rooms/room/"
        data = {"action": "ban_rooms", "_selected_action": [str(i) for i in room_ids]}
        form = self.http.post(url, data={**data, "csrfmiddlewaretoken": self._token()}, headers=self._ref(), timeout=10)
        assert form.ok and 'name="apply"' in form.text, form.text[:500]
        done = self.http.post(
            url,
            data={
                **data,
                "reason": reason,
                "duration": duration,
                "apply": "yes",
                "csrfmiddlewaretoken": _csrf(form.text),
            },
            headers=self._ref(),
            timeout=10,
        )
        assert done.ok, done.text[:500]
        return done

    def _token(self):
        return self.http.cookies.get(settings.CSRF_COOKIE_NAME)

    def _ref(self):
        return {"Referer": f"{self.base}/admin/rooms/room/"}


def _csrf(html):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]


@pytest.fixture
def moderator_login(moderator):
    client = Client()
    client.force_login(moderator)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    return lambda base_url, **kw: Moderator(base_url, cookie, **kw)


@pytest.fixture
def streamer_tokens(make_user):
    """API tokens of `n` new streamers (made here: registering through a node hashes a password slowly)."""

    def make(n):
        return [Token.objects.create(user=make_user(f"streamer{i}")).key for i in range(n)]

    return make
