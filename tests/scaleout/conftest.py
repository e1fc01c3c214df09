import os
import re

import pytest
import requests
from django.contrib.auth.hashers import PBKDF2PasswordHasher

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
    """A moderator's browser session in the Django admin of one node, over real HTTP."""

    def __init__(self, base_url, username, password, verify=True):
        self.base, self.http = base_url, requests.Session()
        if verify is not True:
            self.http.verify, self.http.trust_env = verify, False
        page = self.http.get(f"{base_url}/admin/login/", timeout=10)
        r = self.http.post(
            f"{base_url}/admin/login/?next=/admin/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": _csrf(page.text)},
            headers={"Referer": f"{base_url}/admin/login/"},
            timeout=10,
        )
        assert r.ok and "/admin/login/" not in r.url, r.text[:500]

    def ban(self, room_ids, reason="Spam", duration="24h"):
        url = f"{self.base}/admin/rooms/room/"
        data = {"action": "ban_rooms", "_selected_action": [str(i) for i in room_ids]}
        form = self.http.post(url, data={**data, "csrfmiddlewaretoken": self._token()}, headers=self._ref(), timeout=10)
        assert form.ok and 'name="apply"' in form.text, form.text[:500]
        token = _csrf(form.text)
        done = self.http.post(
            url,
            data={**data, "reason": reason, "duration": duration, "apply": "yes", "csrfmiddlewaretoken": token},
            headers=self._ref(),
            timeout=10,
        )
        assert done.ok, done.text[:500]
        return done

    def _token(self):
        return self.http.cookies.get("csrftoken")

    def _ref(self):
        return {"Referer": f"{self.base}/admin/rooms/room/"}


def _csrf(html):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]


@pytest.fixture
def moderator_login(moderator):
    # hashed with a hasher the app's processes know (the tests' own fast one is not among them)
    moderator.password = PBKDF2PasswordHasher().encode("mod-pass-12345", "scaleoutsalt", iterations=1000)
    moderator.save()
    return lambda base_url, **kw: Moderator(base_url, moderator.username, "mod-pass-12345", **kw)
