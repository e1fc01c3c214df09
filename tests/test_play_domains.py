"""RTMP play URLs are rtmp://{PLAY_DOMAIN}/... (SPEC §3.3) whatever TENCENT_LIVE_ENDPOINT says;
`make run` points them at its local edge itself."""

import subprocess
from pathlib import Path

import pytest

from .test_settings import clean_env, load_settings

ROOT = Path(__file__).resolve().parent.parent
DEV_ENV = (
    "TENCENT_LIVE_ENDPOINT",
    "TENCENT_LIVE_PUSH_DOMAIN",
    "TENCENT_LIVE_PLAY_DOMAIN",
    "TENCENT_LIVE_RTMP_PLAY_DOMAIN",
)


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:8100", "https://live-proxy.example.com"])
def test_the_rtmp_play_domain_is_the_play_domain_with_an_endpoint_override(monkeypatch, endpoint):
    values = load_settings(
        monkeypatch,
        TENCENT_LIVE_ENDPOINT=endpoint,
        TENCENT_LIVE_PUSH_DOMAIN="push.example.com",
        TENCENT_LIVE_PLAY_DOMAIN="play.example.com",
    )
    assert values["TENCENT_LIVE_RTMP_PLAY_DOMAIN"] == "play.example.com"


def test_the_rtmp_play_domain_can_still_be_set_on_its_own(monkeypatch):
    values = load_settings(monkeypatch, TENCENT_LIVE_RTMP_PLAY_DOMAIN="rtmp.example.com")
    assert values["TENCENT_LIVE_RTMP_PLAY_DOMAIN"] == "rtmp.example.com"


def make_run_env(**values):
    """The environment `make run` gives its processes (`make run-env` prints it)."""
    env = {k: v for k, v in clean_env(**values).items() if k not in DEV_ENV or k in values}
    env.pop("MAKEFLAGS", None)
    out = subprocess.run(["make", "-s", "run-env"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return dict(line.split("=", 1) for line in out.stdout.splitlines())


def test_make_run_points_rtmp_play_at_its_local_edge():
    env = make_run_env()
    assert env["TENCENT_LIVE_ENDPOINT"] == "http://127.0.0.1:8100"
    assert env["TENCENT_LIVE_PUSH_DOMAIN"] == env["TENCENT_LIVE_RTMP_PLAY_DOMAIN"] == "127.0.0.1:1935"
    assert env["TENCENT_LIVE_PLAY_DOMAIN"] == "127.0.0.1:8080"
    assert make_run_env(RTMP_PORT="11935")["TENCENT_LIVE_RTMP_PLAY_DOMAIN"] == "127.0.0.1:11935"


def test_make_run_with_a_play_domain_of_ones_own_plays_rtmp_from_it():
    env = make_run_env(TENCENT_LIVE_PLAY_DOMAIN="play.example.com")
    assert env["TENCENT_LIVE_RTMP_PLAY_DOMAIN"] == "play.example.com"


def test_the_app_under_make_run_issues_rtmp_play_urls_for_the_edge(monkeypatch):
    env = make_run_env()
    values = load_settings(monkeypatch, **{k: env[k] for k in DEV_ENV})
    assert values["TENCENT_LIVE_RTMP_PLAY_DOMAIN"] == "127.0.0.1:1935"
    assert values["TENCENT_LIVE_PLAY_DOMAIN"] == "127.0.0.1:8080"
