"""The simulator's hooks for the ingest edge, called the way nginx-rtmp calls them (a form body of
nginx's fields followed by the push URL's query). The real edge is exercised end to end in
tests/browser/test_real_stream.py."""

from urllib.parse import urlencode, urlsplit

import requests

import livecloud
from livecloud.stream_urls import push_url
from tests.media import free_port


def hook(simulator, name, url, *, clientid="7", control=None):
    parts = urlsplit(url)
    app, stream_id = parts.path.strip("/").split("/")
    form = {
        "app": app,
        "flashver": "FMLE/3.0 (compatible; Lavf59.27",
        "swfurl": "",
        "tcurl": f"rtmp://{parts.netloc}/{app}",
        "pageurl": "",
        "addr": "127.0.0.1",
        "clientid": clientid,
        "call": "publish" if name == "on_publish" else "publish_done",
        "name": stream_id,
        "type": "live",
    }
    return requests.post(
        f"{simulator.url}/sim/hooks/{name}",
        params={"control": control or f"http://127.0.0.1:{free_port()}/control"},
        data=f"{urlencode(form)}&{parts.query}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )


def test_on_publish_lets_a_signed_push_in_and_calls_back(simulator):
    url = push_url("8888_hook")[0]
    answer = hook(simulator, "on_publish", f"{url}&room=42")
    assert answer.status_code == 200
    assert [c["event_type"] for c in answer.json()["callbacks"]] == [1]
    assert simulator.state()["streams"]["8888_hook"]["state"] == "active"
    stream = simulator.server.simulator.streams["8888_hook"]
    assert stream.stream_param == f"{urlsplit(url).query}&room=42"  # nginx's own fields left out


def test_on_publish_refuses_what_sim_publish_refuses(simulator, settings):
    url = push_url("8888_hook")[0]
    forged = hook(simulator, "on_publish", url.replace("txSecret=", "txSecret=0"))
    assert forged.status_code == 403 and "txSecret" in forged.json()["reason"]
    elsewhere = hook(simulator, "on_publish", url.replace(settings.TENCENT_LIVE_PUSH_DOMAIN, "10.0.0.1:1935"))
    assert elsewhere.status_code == 403 and "unknown push domain" in elsewhere.json()["reason"]
    assert simulator.state()["streams"] == {} and simulator.callbacks() == []


def test_publish_done_ends_only_the_current_push(simulator):
    url, control = push_url("8888_hook")[0], f"http://127.0.0.1:{free_port()}/control"
    hook(simulator, "on_publish", url, clientid="1", control=control)
    hook(simulator, "on_publish", url, clientid="2", control=control)  # replaces push 1
    assert hook(simulator, "on_publish_done", url, clientid="1", control=control).json()["callbacks"] == []
    assert simulator.state()["streams"]["8888_hook"]["state"] == "active"

    done = hook(simulator, "on_publish_done", url, clientid="2", control=control)
    assert [c["event_type"] for c in done.json()["callbacks"]] == [0]
    assert simulator.state()["streams"]["8888_hook"]["state"] == "inactive"


def test_forbid_of_an_edge_push_succeeds_when_the_edge_is_gone(simulator):
    hook(simulator, "on_publish", push_url("8888_hook")[0])  # its control URL answers nothing
    livecloud.get_client().forbid("8888_hook", resume_at=None, reason="spam")
    assert simulator.state()["streams"]["8888_hook"]["state"] == "forbid"
    assert hook(simulator, "on_publish", push_url("8888_hook")[0]).json()["reason"] == "stream is forbidden"
