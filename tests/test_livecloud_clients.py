"""Both cloud backends against the simulator over real HTTP: behaviour, error mapping, timeouts."""

import json
import socket
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import livecloud
from livecloud import CloudError
from livecloud.api3 import Api3Client
from livecloud.legacy import LegacyClient
from livecloud.stream_urls import push_url

BACKENDS = ["api3", "legacy"]
FORBID = {"api3": "ForbidLiveStream", "legacy": "Live_Channel_SetStatus"}


@pytest.fixture(params=BACKENDS)
def cloud(request, simulator, settings):
    settings.LIVE_CLOUD = request.param
    return livecloud.get_client()


def publish(simulator, stream_id):
    response = simulator.publish(push_url(stream_id)[0])
    assert response.status_code == 200, response.text
    return response.json()


def test_get_client_follows_live_cloud_setting(settings, simulator):
    settings.LIVE_CLOUD = "api3"
    assert isinstance(livecloud.get_client(), Api3Client)
    settings.LIVE_CLOUD = "legacy"
    assert isinstance(livecloud.get_client(), LegacyClient)


def test_online_streams_lists_what_is_pushing(cloud, simulator):
    assert cloud.online_streams() == set()
    publish(simulator, "8888_a")
    publish(simulator, "8888_b")
    simulator.stop("8888_b")
    assert cloud.online_streams() == {"8888_a"}


def test_stream_state_active_inactive_forbid(cloud, simulator):
    assert cloud.stream_state("8888_never") == "inactive"
    publish(simulator, "8888_s")
    assert cloud.stream_state("8888_s") == "active"
    simulator.crash("8888_s")
    assert cloud.stream_state("8888_s") == "inactive"
    cloud.forbid("8888_s", resume_at=datetime.now(UTC) + timedelta(hours=1), reason="spam")
    assert cloud.stream_state("8888_s") == "forbid"


def test_forbid_cuts_the_push_and_refuses_new_ones_until_resume(cloud, simulator):
    publish(simulator, "8888_f")
    cloud.forbid("8888_f", resume_at=datetime.now(UTC) + timedelta(days=1), reason="abuse")
    cloud.drop("8888_f")
    assert cloud.online_streams() == set()
    refused = simulator.publish(push_url("8888_f")[0])
    assert refused.status_code == 403 and "forbidden" in refused.json()["reason"]
    cloud.resume("8888_f")
    assert cloud.stream_state("8888_f") == "inactive"
    publish(simulator, "8888_f")
    assert cloud.stream_state("8888_f") == "active"


def test_drop_cuts_the_push_but_allows_a_new_one(cloud, simulator):
    publish(simulator, "8888_d")
    cloud.drop("8888_d")
    assert cloud.stream_state("8888_d") == "inactive"
    cloud.drop("8888_d")  # an inactive stream: still fine
    publish(simulator, "8888_d")
    assert cloud.stream_state("8888_d") == "active"


def test_api3_forbid_sends_resume_time_in_utc_and_reason(simulator, settings):
    settings.LIVE_CLOUD = "api3"
    resume_at = datetime(2030, 1, 2, 11, 30, tzinfo=UTC).astimezone()  # any zone in, UTC out
    simulator.configure()
    with pytest.raises(CloudError) as err:  # 2030 is beyond Tencent's 90-day cap
        livecloud.get_client().forbid("8888_x", resume_at=resume_at, reason="too far")
    assert err.value.code == "InvalidParameterValue" and not err.value.retryable
    soon = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    livecloud.get_client().forbid("8888_x", resume_at=soon, reason="harassment")
    params = simulator.calls("ForbidLiveStream")[-1]["params"]
    assert params["ResumeTime"] == soon.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert params["Reason"] == "harassment"
    assert params["StreamName"] == "8888_x" and params["DomainName"] == settings.TENCENT_LIVE_PUSH_DOMAIN
    assert simulator.state()["streams"]["8888_x"]["forbidden_until"] == params["ResumeTime"]


def test_legacy_drop_after_forbid_keeps_the_ban(simulator, settings):
    settings.LIVE_CLOUD = "legacy"
    client = livecloud.get_client()
    publish(simulator, "8888_l")
    client.forbid("8888_l", resume_at=None, reason="spam")
    client.drop("8888_l")
    assert client.stream_state("8888_l") == "forbid"
    statuses = [c["params"]["status"] for c in simulator.calls("Live_Channel_SetStatus")]
    assert statuses == ["0"]  # status 2 (cut) would have allowed pushing again


def test_api3_online_list_is_one_call_and_pages_only_when_needed(simulator, settings, monkeypatch):
    settings.LIVE_CLOUD = "api3"
    for i in range(25):
        publish(simulator, f"8888_p{i}")
    assert len(livecloud.get_client().online_streams()) == 25
    assert len(simulator.calls("DescribeLiveStreamOnlineList")) == 1

    monkeypatch.setattr(Api3Client, "online_page_size", 10)
    assert len(livecloud.get_client().online_streams()) == 25
    pages = [c["params"]["PageNum"] for c in simulator.calls("DescribeLiveStreamOnlineList")[1:]]
    assert pages == [1, 2, 3]


# --- error mapping -----------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("code", "api3_code", "legacy_code"),
    [
        ("InternalError", "InternalError", "1201"),
        ("RequestLimitExceeded", "RequestLimitExceeded", "1201"),
        (502, "", ""),
    ],
)
def test_server_side_failures_are_retryable(simulator, settings, backend, code, api3_code, legacy_code):
    settings.LIVE_CLOUD = backend
    simulator.faults(api_error_rate=1, api_error_code=code)
    with pytest.raises(CloudError) as err:
        livecloud.get_client().online_streams()
    assert err.value.retryable
    assert err.value.code == (api3_code if backend == "api3" else legacy_code)


@pytest.mark.parametrize("backend", BACKENDS)
def test_wrong_credentials_are_not_retryable(simulator, settings, backend):
    settings.LIVE_CLOUD = backend
    settings.TENCENT_SECRET_KEY = "not-the-key"
    settings.TENCENT_LIVE_API_KEY = "not-the-key"
    with pytest.raises(CloudError) as err:
        livecloud.get_client().forbid("8888_z", resume_at=None, reason="x")
    assert not err.value.retryable
    assert err.value.code == {"api3": "AuthFailure.SignatureFailure", "legacy": "sign invalid"}[backend]
    assert simulator.state()["streams"] == {}  # nothing was forbidden


def test_api3_unknown_secret_id_and_bad_parameters(simulator, settings):
    settings.TENCENT_SECRET_ID = "AKIDsomeoneelse"
    with pytest.raises(CloudError) as err:
        livecloud.get_client().stream_state("8888_q")
    assert (err.value.code, err.value.retryable) == ("AuthFailure.SecretIdNotFound", False)

    settings.TENCENT_SECRET_ID = simulator.server.simulator.config.secret_id
    settings.TENCENT_LIVE_PUSH_DOMAIN = "push.someone-else.example"
    with pytest.raises(CloudError) as err:
        livecloud.get_client().drop("8888_q")
    assert (err.value.code, err.value.retryable) == ("InvalidParameterValue", False)


@pytest.mark.parametrize("backend", BACKENDS)
def test_timeouts_are_retryable_errors(simulator, settings, backend):
    settings.LIVE_CLOUD = backend
    settings.TENCENT_LIVE_TIMEOUT = 0.2
    simulator.faults(api_delay_ms=1000)
    with pytest.raises(CloudError) as err:
        livecloud.get_client().stream_state("8888_t")
    assert err.value.retryable and err.value.code == ""


@pytest.mark.parametrize("backend", BACKENDS)
def test_unreachable_cloud_is_a_retryable_error(settings, backend):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused
        settings.LIVE_CLOUD = backend
        settings.TENCENT_LIVE_ENDPOINT = f"http://127.0.0.1:{port}"
        with pytest.raises(CloudError) as err:
            livecloud.get_client().resume("8888_u")
    assert err.value.retryable


class CharsetJsonHandler(BaseHTTPRequestHandler):
    """Answers every request with a Tencent error envelope under `application/json; charset=utf-8`."""

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps({"Response": {"Error": {"Code": "InternalError", "Message": "x"}, "RequestId": "r"}})
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("call", ["online_streams", "stream_state"])
def test_api3_answer_the_sdk_cannot_read_is_an_error_not_an_empty_result(settings, call):
    """The SDK ignores error bodies under any Content-Type but exactly application/json."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), CharsetJsonHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings.TENCENT_LIVE_ENDPOINT = f"http://127.0.0.1:{server.server_address[1]}"
        client = livecloud.get_client()
        with pytest.raises(CloudError):
            getattr(client, call)(*(["8888_v"] if call == "stream_state" else []))
    finally:
        server.shutdown()
        server.server_close()
