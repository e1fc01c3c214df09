"""The API against its own OpenAPI schema, tested from outside: schemathesis (its CLI, as an API
client would be tested) generates requests from /api/schema/ and sends them over real HTTP to the
live server (PostgreSQL, Redis), as a signed-in streamer (every phase) and anonymously (random
cases and sequences), with every check on (tests/schemathesis.toml names the one check that is
off, and why).

The run is reproducible (deterministic generation) and bounded: SCHEMATHESIS_EXAMPLES
cases per operation and phase (default 8). Throttles and the login lockout stay in the schema
(429), but are raised here so the generated requests reach the logic behind them.
"""

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from rest_framework.authtoken.models import Token
from rest_framework.throttling import ScopedRateThrottle

from rooms.models import Room

pytestmark = pytest.mark.django_db(transaction=True)
CONFIG = Path(__file__).with_name("schemathesis.toml")
UNLIMITED = "1000000/min"


@pytest.fixture
def unthrottled(settings, monkeypatch):
    rates = dict.fromkeys(ScopedRateThrottle.THROTTLE_RATES, UNLIMITED)
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)
    settings.AXES_FAILURE_LIMIT = 1_000_000


def schemathesis(live_server, workdir, *options):
    """Run `st run` over the live server's schema; (exit code, output, seconds)."""
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(CONFIG),
        "run",
        f"{live_server.url}/api/schema/",
        "--checks",
        "all",
        "--max-examples",
        str(django_settings.SCHEMATHESIS_EXAMPLES),
        "--generation-deterministic",  # the same cases every run (no seed needed)
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--no-color",
        *options,
    ]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=workdir)
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


def summary(output):
    """The run's closing lines, and how many cases it generated."""
    generated = re.search(r"(\d+) generated", output)
    return int(generated[1]) if generated else 0, output[output.rfind("SUMMARY") :]


@pytest.mark.parametrize("caller", ["anonymous", "streamer"])
def test_api_answers_as_its_schema_says(live_server, unthrottled, make_user, make_room, caller, tmp_path):
    streamer = make_user("schemathesis_streamer")
    make_room(streamer, Room.Status.LIVE)  # data for the list, the room and its counters
    make_room(make_user(), Room.Status.LIVE)  # a room the streamer does not own
    if caller == "streamer":
        options = ["--header", f"Authorization: Token {Token.objects.create(user=streamer).key}"]
    else:
        # The boundary cases (coverage phase) run once, as the streamer: the public operations take
        # the token and answer alike, and `ignored_auth` sends the others without it.
        options = ["--phases", "fuzzing,stateful"]
    code, output, seconds = schemathesis(live_server, tmp_path, *options)  # its files stay out of the tree
    generated, closing = summary(output)
    print(f"schemathesis as {caller}: {generated} cases in {seconds:.1f} s\n{closing}")
    assert generated > 0, output
    assert code == 0, output
