"""A body nested too deeply for Python's JSON decoder ("[" * 100000 raises RecursionError) is a
400 everywhere JSON is read: every API operation, Tencent's callbacks, /interface.php and the
simulator. Never a 500."""

import re

import pytest
from drf_spectacular.generators import SchemaGenerator

from . import xiaozhibo_client as xzb

pytestmark = pytest.mark.django_db
DEEP = "[" * 100_000
WRITES = ("post", "put", "patch")


def api_operations():
    """Every writing operation of the API, from its schema (so endpoints added later are covered)."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (method, path, "requestBody" in operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in WRITES
    ]


def test_every_api_operation_answers_a_deep_body_with_a_400(streamer_api, live_room):
    operations = api_operations()
    assert len([op for op in operations if op[2]]) >= 4  # register, token, create, update, like, ...
    for method, path, takes_body in operations:
        url = re.sub(r"\{[^}]+\}", str(live_room.pk), path)
        response = getattr(streamer_api, method)(url, DEEP, content_type="application/json")
        assert response.status_code < 500, (method, path, response.status_code)
        if takes_body:
            assert response.status_code == 400, (method, path, response.status_code)
            assert response.json()["code"] == "parse_error"
            assert "nested too deeply" in response.json()["detail"]


def test_like_fast_path_hands_a_deep_body_to_drf(api, live_room, settings):
    assert settings.REDIS_URL  # the fast path answers likes only in Redis mode
    response = api.post(f"/api/v1/rooms/{live_room.pk}/like/", DEEP, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"


def test_callback_with_a_deep_body_is_refused(client):
    response = client.post("/callbacks/tencent/", DEEP, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"code": "bad_json", "detail": "The body is nested too deeply."}


def test_xiaozhibo_deep_body_is_4001(client, settings):
    settings.XIAOZHIBO_COMPAT = True
    xzb.error(client, DEEP, 4001, "http post body is empty or invalid json format in post body from client!")


def test_simulator_answers_a_deep_body_with_a_400(simulator):
    response = simulator.http.post(f"{simulator.url}/sim/publish", data=DEEP, timeout=10)
    assert response.status_code == 400
    api3 = simulator.http.post(f"{simulator.url}/", data=DEEP, headers={"Content-Type": "application/json"}, timeout=10)
    assert api3.status_code == 200 and api3.json()["Response"]["Error"]["Code"] == "InvalidParameter"
