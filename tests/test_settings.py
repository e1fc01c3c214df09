"""Settings come from the environment (SPEC §11): junk stops start-up naming the variable, and with
DJANGO_DEBUG off so does a missing secret or key."""

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "liveroom" / "settings.py"
SECRETS = {
    "DJANGO_SECRET_KEY": "a-production-secret-key-for-the-test-only-0123456789-abcdefghijklmnop",
    "TENCENT_SECRET_ID": "AKIDtest",
    "TENCENT_SECRET_KEY": "test-secret-key",
    "TENCENT_LIVE_PUSH_KEY": "test-push-key",
    "TENCENT_LIVE_CALLBACK_KEY": "test-callback-key",
}
PRODUCTION = {"DJANGO_DEBUG": "off", **SECRETS}


def clean_env(**values):
    """This process's environment without any liveroom setting, plus `values`."""
    names = [*SECRETS, "DJANGO_DEBUG", "LIVE_CLOUD", "TENCENT_LIVE_API_KEY", "TENCENT_LIVE_ENDPOINT"]
    env = {k: v for k, v in os.environ.items() if k not in names}
    return {**env, "DJANGO_SETTINGS_MODULE": "liveroom.settings", **values}


def start(command, **values):
    return subprocess.run(command, cwd=ROOT, env=clean_env(**values), capture_output=True, text=True, timeout=60)


def load_settings(monkeypatch, **values):
    """Run liveroom/settings.py afresh with these environment variables (and no others of ours)."""
    monkeypatch.setattr(os, "environ", clean_env(**values))
    return runpy.run_path(str(SETTINGS))


@pytest.mark.parametrize(
    "name, value",
    [("OFFLINE_STRIKES", "abc"), ("TENCENT_LIVE_ENDPOINT", "127.0.0.1:8100"), ("REDIS_URL", "localhost:6379")],
)
def test_junk_value_stops_django_setup_naming_the_variable(name, value):
    result = start([sys.executable, "-c", "import django; django.setup()"], **{name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and f"{name}={value!r}" in result.stderr


def test_manage_py_says_what_is_wrong_in_one_line():
    result = start([sys.executable, "manage.py", "check"], DJANGO_DEBUG="off")
    assert result.returncode == 1
    assert result.stderr == "Configuration error: DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.\n"


@pytest.mark.parametrize(
    "name, value",
    [
        ("DJANGO_DEBUG", "maybe"),
        ("PUSH_URL_TTL", "1.5"),
        ("SWEEP_INTERVAL", "0"),
        ("RECONNECT_WINDOW", "-1"),
        ("PENDING_TTL", "soon"),
        ("COUNTER_FLUSH_INTERVAL", "5s"),
        ("CALLBACK_MAX_AHEAD", "x"),
        ("LIVE_CLOUD", "api2"),
        ("DATABASE_URL", "localhost/liveroom"),
        ("DATABASE_URL", "mongodb://localhost/liveroom"),
        ("CELERY_BROKER_URL", "localhost"),
        ("TENCENT_LIVE_BIZID", "biz"),
        ("TENCENT_LIVE_APPID", "app-1"),
        ("TENCENT_LIVE_PUSH_DOMAIN", "rtmp://push.example.com/live"),
        ("TENCENT_LIVE_PLAY_DOMAIN", "https://play.example.com"),
        ("TENCENT_LIVE_APP_NAME", "live/extra"),
        ("TENCENT_LIVE_PLAY_SCHEME", "ftp"),
        ("THROTTLE_COUNTER", "lots"),
        ("LOG_LEVEL", "LOUD"),
        ("REDIS_SENTINELS", "10.0.0.5:26379;10.0.0.6"),
        ("REDIS_SENTINEL_MASTER", "my master"),
        ("METRICS_ENABLED", "sometimes"),
        ("METRICS_ALLOWED", "10.0.0.0/33"),
        ("PROMETHEUS_MULTIPROC_DIR", "/no/such/directory"),
    ],
)
def test_junk_value_is_refused_naming_the_variable(monkeypatch, name, value):
    with pytest.raises(ImproperlyConfigured, match=f"^{name}="):
        load_settings(monkeypatch, **{name: value})


@pytest.mark.parametrize("missing", list(SECRETS))
def test_with_debug_off_a_missing_secret_stops_start_up(monkeypatch, missing):
    values = {k: v for k, v in PRODUCTION.items() if k != missing}
    with pytest.raises(ImproperlyConfigured, match=f"^{missing} must be set when DJANGO_DEBUG is off"):
        load_settings(monkeypatch, **values)


def test_with_debug_off_the_legacy_backend_needs_its_api_key(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="^TENCENT_LIVE_API_KEY must be set"):
        load_settings(monkeypatch, LIVE_CLOUD="legacy", **PRODUCTION)


def test_production_settings(monkeypatch):
    production = load_settings(monkeypatch, **PRODUCTION)
    assert production["DEBUG"] is False and production["SECRET_KEY"] == SECRETS["DJANGO_SECRET_KEY"]
    assert production["SESSION_COOKIE_SECURE"] and production["CSRF_COOKIE_SECURE"]
    assert production["TENCENT_LIVE_ENDPOINT"] is None  # Tencent itself, not the simulator
    assert production["TENCENT_LIVE_PLAY_SCHEME"] == "https"
    assert (
        "rest_framework.renderers.BrowsableAPIRenderer" not in production["REST_FRAMEWORK"]["DEFAULT_RENDERER_CLASSES"]
    )
    development = load_settings(monkeypatch)
    assert development["DEBUG"] is True and not development["SESSION_COOKIE_SECURE"]
    assert development["TENCENT_LIVE_ENDPOINT"] == "http://127.0.0.1:8100"


def test_deploy_check_warns_of_development_stream_domains():
    result = start([sys.executable, "manage.py", "check", "--deploy"], **PRODUCTION)
    assert "livecloud.W001" in result.stderr and "TENCENT_LIVE_PUSH_DOMAIN is 127.0.0.1:1935" in result.stderr
