"""Input is read as the OpenAPI schema types it, so what the schema refuses the API refuses too."""

import pytest
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db
URL = "/api/v1/rooms/"


@pytest.mark.parametrize(
    "body, field",
    [({"title": 5}, "title"), ({"title": "ok", "location": 0}, "location"), ({"title": ["x"]}, "title")],
)
def test_text_fields_take_strings_only(streamer_api, body, field):
    response = streamer_api.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {field: ["Not a valid string."]}


@pytest.mark.parametrize("count", ["5", 2.5, True])
def test_like_count_takes_a_json_number_only(api, live_room, count):
    response = api.post(f"{URL}{live_room.pk}/like/", {"count": count}, format="json")
    assert response.status_code == 400 and "count" in response.json()["fields"]


def test_like_count_as_a_whole_float_is_a_number(api, live_room):
    assert api.post(f"{URL}{live_room.pk}/like/", {"count": 2.0}, format="json").json() == {"like_count": 2}


def test_token_login_takes_strings_only(api, streamer):
    response = api.post("/api/v1/auth/token/", {"username": "streamer", "password": 123}, format="json")
    assert response.status_code == 400 and response.json()["fields"] == {"password": ["Not a valid string."]}


@pytest.mark.parametrize("query", ["page=1&page=2", "page_size=5&page_size=5", "ordering=-like_count&ordering="])
@pytest.mark.parametrize("path", [URL, f"{URL}mine/"])
def test_a_list_parameter_given_twice_is_refused(streamer_api, query, path):
    if path.endswith("mine/") and query.startswith("ordering"):
        query = "page=1&page=1"
    response = streamer_api.get(f"{path}?{query}")
    assert response.status_code == 400
    assert response.json()["fields"][query.split("=")[0]] == ["Given more than once; give it once."]


@pytest.mark.parametrize("query", ["page=", "page_size=", "owner=", "ordering=", "search="])
def test_an_empty_list_parameter_means_its_default(api, live_room, query):
    response = api.get(f"{URL}?{query}")
    assert response.status_code == 200 and response.json()["count"] == 1


@pytest.mark.parametrize("owner", ["1.5", "abc", "0", str(2**63)])
def test_owner_is_a_whole_number_in_range(api, owner):
    assert api.get(URL, {"owner": owner}).status_code == 400


@pytest.mark.parametrize(
    "url, ok",
    [
        ("https://img.example.com/c.jpg", True),
        ("http://cdn:8080/a.png?x=1", True),
        ("", True),
        ("ftp://img.example.com/c.jpg", False),
        ("https://a b.com/", False),
        ("not a url", False),
    ],
)
def test_cover_url_is_an_http_url_or_empty(streamer_api, url, ok):
    response = streamer_api.post(URL, {"title": "Show", "cover_url": url}, format="json")
    assert (response.status_code == 201) is ok, response.json()


def test_schema_documents_the_error_answers_of_every_operation():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = [(m, p, op) for p, ops in schema["paths"].items() for m, op in ops.items()]
    assert len(operations) >= 12
    components = schema["components"]["schemas"]
    for method, path, operation in operations:
        assert "503" in operation["responses"], (method, path)
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):  # the Error shape, or one an operation documents itself
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert {"code", "detail"} <= set(components[ref.rsplit("/", 1)[1]]["properties"]), (method, path)
    like = schema["paths"]["/api/v1/rooms/{id}/like/"]["post"]["responses"]
    assert {"400", "404", "409", "429", "503"} <= set(like)
    assert "Retry-After" in like["429"]["headers"]
    mine = schema["paths"]["/api/v1/rooms/mine/"]["get"]
    assert sorted(p["name"] for p in mine["parameters"]) == ["page", "page_size"]
    assert {"401", "403"} <= set(mine["responses"])


def test_schema_says_which_room_fields_may_be_empty():
    room = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]["Room"]["properties"]
    for name, prop in room.items():  # every URL we answer: a URI, or "" when there is none
        if "anyOf" in prop and prop["anyOf"][0].get("format") == "uri" or prop.get("format") == "uri":
            assert {"type": "string", "enum": [""]} in prop.get("anyOf", []), name
    assert {"type": "string", "enum": [""]} in room["cover_url"]["anyOf"]
    assert {"$ref": "#/components/schemas/BlankEnum"} in room["close_reason"]["oneOf"]
    assert room["started_at"]["nullable"] and room["play_urls"]["nullable"]
