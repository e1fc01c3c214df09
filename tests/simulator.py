"""Pytest fixtures for the Tencent simulator (imported by conftest.py).

`simulator`: a simulator served over real HTTP on a free loopback port (one per test session,
reset before each test), with settings.TENCENT_LIVE_ENDPOINT pointing at it and its keys taken
from the test's settings. Its callbacks go nowhere (recorded as not sent) unless the test
asks for `live_simulator`, which sends them to the Django app under `live_server` (real HTTP
both ways; such tests run on a transactional database).

Helpers go through the `/sim/...` endpoints: `publish(push_url)`, `stop(id)`, `crash(id)`,
`record(id)`, `screenshot(id)`, `moderation(id, suggestion=, label=, score=)` return the `requests.Response`; `state()`, `calls(action=None)`,
`callbacks()`, `faults(**kw)`, `reset()` return decoded JSON.
"""

import pytest
import requests
from django.conf import settings as django_settings

from livecloud.sim import SimConfig, Simulator, SimulatorServer


class SimulatorHandle:
    def __init__(self, server):
        self.server = server
        self.url = server.url
        self.http = requests.Session()

    def configure(self, **overrides):
        """Take the simulator's keys and domains from the current settings, then apply `overrides`."""
        config = SimConfig.from_settings(django_settings)
        config.callback_url = self.server.simulator.config.callback_url
        for name, value in overrides.items():
            setattr(config, name, value)
        self.server.simulator.config = config

    def callbacks_to(self, url):
        self.server.simulator.config.callback_url = url

    def _post(self, path, json=None):
        return self.http.post(f"{self.url}{path}", json=json, timeout=10)

    def publish(self, push_url):
        return self._post("/sim/publish", {"push_url": push_url})

    def stop(self, stream_id):
        return self._post(f"/sim/streams/{stream_id}/stop")

    def crash(self, stream_id):
        return self._post(f"/sim/streams/{stream_id}/crash")

    def record(self, stream_id):
        return self._post(f"/sim/streams/{stream_id}/record")

    def screenshot(self, stream_id):
        return self._post(f"/sim/streams/{stream_id}/screenshot")

    def moderation(self, stream_id, **verdict):
        return self._post(f"/sim/streams/{stream_id}/moderation", verdict)

    def state(self):
        return self.http.get(f"{self.url}/sim/state", timeout=10).json()

    def calls(self, action=None):
        return [c for c in self.state()["calls"] if action is None or c["action"] == action]

    def callbacks(self):
        return self.state()["callbacks"]

    def faults(self, **faults):
        response = self._post("/sim/faults", faults)
        assert response.status_code == 200, response.text
        return response.json()

    def reset(self):
        self._post("/sim/reset").raise_for_status()


@pytest.fixture(scope="session")
def simulator_server():
    server = SimulatorServer(Simulator(SimConfig.from_settings(django_settings))).start()
    yield server
    server.close()


@pytest.fixture
def simulator(simulator_server, settings):
    settings.SIM_SNAPSHOT_INTERVAL = 0  # real frames only for the tests that ask for them
    handle = SimulatorHandle(simulator_server)
    handle.reset()
    handle.configure(callback_url="")
    settings.TENCENT_LIVE_ENDPOINT = handle.url
    yield handle
    handle.reset()


@pytest.fixture
def live_simulator(simulator, live_server, settings):
    """The simulator, with its callbacks delivered over HTTP to the app under `live_server`."""
    settings.SIM_CALLBACK_URL = f"{live_server.url}/callbacks/tencent/"
    simulator.callbacks_to(settings.SIM_CALLBACK_URL)
    simulator.web = live_server.url
    return simulator
