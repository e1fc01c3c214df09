"""The simulator behaves like Tencent where our code depends on it."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from livecloud.signing import md5_sign, tc3_signature
from livecloud.stream_urls import push_url


def api3(simulator, action, params, *, content_type="application/json", secret_key=None, timestamp=None):
    """A hand-signed API 3.0 request (the SDK would not let us send wrong ones)."""
    config = simulator.server.simulator.config
    body = json.dumps(params).encode()
    host = simulator.url.removeprefix("http://")
    timestamp = timestamp or int(time.time())
    signature = tc3_signature(
        secret_key or config.secret_key,
        method="POST",
        host=host,
        content_type=content_type,
        query="",
        payload=body,
        timestamp=timestamp,
    )
    date = time.strftime("%Y-%m-%d", time.gmtime(timestamp))
    headers = {
        "Content-Type": content_type,
        "Host": host,
        "X-TC-Action": action,
        "X-TC-Version": "2018-08-01",
        "X-TC-Timestamp": str(timestamp),
        "Authorization": f"TC3-HMAC-SHA256 Credential={config.secret_id}/{date}/live/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={signature}",
    }
    response = requests.post(f"{simulator.url}/", data=body, headers=headers, timeout=5)
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    return response.json()["Response"]


def error_code(response):
    return response.get("Error", {}).get("Code")


def test_signed_request_gets_tencents_envelope(simulator):
    response = api3(simulator, "DescribeLiveStreamOnlineList", {"PageSize": 100})
    assert response["TotalNum"] == 0 and response["OnlineInfo"] == [] and response["RequestId"]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"secret_key": "wrong"}, "AuthFailure.SignatureFailure"),
        ({"timestamp": int(time.time()) - 600}, "AuthFailure.SignatureExpire"),
        ({"content_type": "application/json; charset=utf-8"}, "InvalidRequest"),
    ],
)
def test_bad_requests_are_refused_like_tencent(simulator, kwargs, code):
    assert error_code(api3(simulator, "DescribeLiveStreamOnlineList", {}, **kwargs)) == code
    assert simulator.calls()[-1]["result"] == code


@pytest.mark.parametrize(
    ("action", "params", "code"),
    [
        ("DescribeLiveStreamOnlineList", {"PageSize": 300_001}, "InvalidParameterValue"),
        ("DropLiveStream", {"AppName": "live", "DomainName": "127.0.0.1:1935"}, "MissingParameter"),
        ("DescribeLiveForbidStreamList", {}, "InvalidAction"),
    ],
)
def test_parameters_and_actions_are_checked(simulator, settings, action, params, code):
    settings.TENCENT_LIVE_PUSH_DOMAIN = "127.0.0.1:1935"
    simulator.configure()
    assert error_code(api3(simulator, action, params)) == code


def test_legacy_api_checks_appid_t_and_sign(simulator, settings):
    t = int(time.time()) + 60
    base = {"interface": "Live_Channel_GetLiveChannelList", "appid": settings.TENCENT_LIVE_APPID}
    cases = [
        ({**base, "appid": "1"}, "appid is invalid"),
        ({**base, "t": t - 120, "sign": md5_sign(settings.TENCENT_LIVE_API_KEY, t - 120)}, "time expired"),
        ({**base, "t": t, "sign": md5_sign("wrong", t)}, "sign invalid"),
        (
            {**base, "interface": "Live_Nope", "t": t, "sign": md5_sign(settings.TENCENT_LIVE_API_KEY, t)},
            "cmd is invalid",
        ),
    ]
    for query, text in cases:
        response = requests.get(f"{simulator.url}/common_access", params=query, timeout=5)
        assert (response.status_code, response.text) == (403, text)
    ok = requests.get(
        f"{simulator.url}/common_access",
        params={**base, "t": t, "sign": md5_sign(settings.TENCENT_LIVE_API_KEY, t)},
        timeout=5,
    ).json()
    assert ok["ret"] == 0 and ok["output"] == {"all_count": 0, "channel_list": []}


def test_validate_push_is_one_reusable_check(simulator, settings):
    sim = simulator.server.simulator
    query = dict(p.split("=") for p in push_url("8888_edge")[0].split("?")[1].split("&"))
    assert sim.validate_push("live", "8888_edge", query["txSecret"], query["txTime"]) == (True, "")
    assert sim.validate_push("other", "8888_edge", query["txSecret"], query["txTime"])[0] is False
    assert sim.validate_push("live", "8888_other", query["txSecret"], query["txTime"])[1].startswith("txSecret")
    assert sim.validate_push("live", "8888_edge", "", "")[1] == "missing txSecret or txTime"


def test_push_to_an_unknown_domain_is_refused(simulator, settings):
    url = push_url("8888_dom")[0].replace(settings.TENCENT_LIVE_PUSH_DOMAIN, "elsewhere.example")
    refused = simulator.publish(url)
    assert refused.status_code == 403 and "unknown push domain" in refused.json()["reason"]


def test_a_new_push_replaces_the_current_one_with_a_stop_for_the_old_sequence(simulator):
    first = simulator.publish(push_url("8888_r")[0]).json()
    second = simulator.publish(push_url("8888_r")[0]).json()
    events = [(c["event_type"], c["sequence"]) for c in second["callbacks"]]
    assert events == [(0, first["sequence"]), (1, second["sequence"])]
    assert simulator.state()["streams"]["8888_r"] == {
        "state": "active",
        "sequence": second["sequence"],
        "forbidden_until": None,
    }


def test_controls_on_unknown_streams_are_404(simulator):
    for verb in ("stop", "crash", "record", "screenshot"):
        assert simulator._post(f"/sim/streams/8888_ghost/{verb}").status_code == 404


def test_faults_are_validated_and_reset(simulator):
    assert simulator._post("/sim/faults", {"api_error_rate": 2}).status_code == 400
    assert simulator._post("/sim/faults", {"nonsense": 1}).status_code == 400
    assert simulator._post("/sim/faults", {"online_list_drop_rate": -1}).status_code == 400
    assert simulator._post("/sim/faults", {"api_error_actions": "DropLiveStream"}).status_code == 400
    assert simulator.faults(api_delay_ms=5)["api_delay_ms"] == 5
    simulator.reset()
    assert simulator.state()["faults"]["api_delay_ms"] == 0


class CaptureHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        self.server.received.append(
            (self.headers["Content-Type"], json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        )
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def capture():
    """An HTTP endpoint that records what is POSTed to it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), CaptureHandler)
    server.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_callbacks_are_json_signed_with_the_callback_key(simulator, settings, capture):
    simulator.callbacks_to(f"http://127.0.0.1:{capture.server_address[1]}/")
    pushed = simulator.publish(push_url("8888_cb")[0]).json()
    simulator.stop("8888_cb")
    (push_type, push), (stop_type, stop) = capture.received
    assert push_type == stop_type == "application/json"
    assert (push["event_type"], stop["event_type"]) == (1, 0)
    assert push["sequence"] == stop["sequence"] == pushed["sequence"]
    assert push["stream_id"] == push["channel_id"] == "8888_cb" and push["appname"] == "live"
    assert int(stop["push_duration"]) >= 0
    for event in (push, stop):
        assert event["t"] == event["event_time"] + 600
        assert event["sign"] == md5_sign(settings.TENCENT_LIVE_CALLBACK_KEY, event["t"])


def test_a_client_hanging_up_early_prints_no_traceback(simulator_server, capsys):
    for error in (BrokenPipeError, ConnectionResetError, ValueError):
        try:
            raise error("gone")
        except Exception:
            simulator_server.handle_error(None, ("127.0.0.1", 1))
    printed = capsys.readouterr().err
    assert "ValueError" in printed and "BrokenPipeError" not in printed and "ConnectionResetError" not in printed
