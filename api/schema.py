"""The OpenAPI schema's shared parts: the error answers of every operation, documented once.

`document_errors` (a drf-spectacular postprocessing hook) gives each operation the error statuses
it can answer, all with the one error shape `{code, detail[, fields]}` (`api/errors.py`),
from what the operation declares: a body or query parameters can be refused (400, 415), a path
names something that may not exist (404), credentials can be wrong (401), a signed-in caller can
be refused (403), a write can meet a state that forbids it (409) or a throttle (429), and any
request can meet a failing dependency (503). An operation that documents a status itself keeps
its own. So an endpoint added later is documented without work of its own; `tests/test_api_schema.py`
(schemathesis against a live server) holds the schema to what the API answers.
"""

from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.extensions import OpenApiSerializerExtension

ERROR = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error answer. `code` is stable and machine-readable; `detail` is for people.",
    "properties": {
        "code": {"type": "string", "description": "e.g. `invalid`, `not_found`, `room_closed`, `throttled`"},
        "detail": {"type": "string"},
        "fields": {
            "type": "object",
            "additionalProperties": True,
            "description": "Validation errors (400 `invalid`) only: the messages for each field.",
        },
    },
    "required": ["code", "detail"],
}
RETRY_AFTER = {
    "Retry-After": {"schema": {"type": "integer", "minimum": 0}, "description": "Seconds to wait before trying again."}
}
WRITES = {"post", "put", "patch", "delete"}
ANONYMOUS = {}


def _statuses(method, operation):
    """(status, description, headers) of the errors this operation can answer."""
    parameters = operation.get("parameters", [])
    takes_body = "requestBody" in operation
    security = operation.get("security", [])
    schemes = [requirement for requirement in security if requirement]
    needs_user = bool(schemes) and ANONYMOUS not in security
    session = any("cookieAuth" in requirement for requirement in security)
    found = []
    if takes_body or any(p["in"] in ("query", "header") for p in parameters):
        found.append(
            (
                400,
                "The request is invalid (`invalid` names the fields, `parse_error` for a body that is not JSON).",
                None,
            )
        )
    if schemes:
        found.append((401, "The credentials are missing (where required) or wrong.", None))
    if needs_user or (session and method in WRITES):
        found.append((403, "Not allowed for this caller (e.g. `not_owner`; a session without its CSRF token).", None))
    if any(p["in"] == "path" for p in parameters) or any(p["name"] == "page" for p in parameters):
        found.append((404, "No such resource visible to the caller (or no such page).", None))
    if method in WRITES and any(p["in"] == "path" for p in parameters):
        found.append((409, "The resource's state does not allow this (e.g. `room_closed`, `room_not_live`).", None))
    if takes_body:
        found.append((415, "The body is not `application/json`.", None))
    if method in WRITES:
        found.append((429, "Throttled (`throttled`) or, on a login, locked out (`locked_out`).", RETRY_AFTER))
    found.append((503, "A dependency (database, Redis) is failing; try again later.", RETRY_AFTER))
    return found


def _non_blank_text(components):
    """DRF trims text fields before checking they are not blank: `"   "` is as empty as `""`.
    Request components (COMPONENT_SPLIT_REQUEST names them `...Request`) say so with a pattern."""
    for name, component in components.items():
        if not name.endswith("Request"):
            continue
        for prop in component.get("properties", {}).values():
            plain = not {"pattern", "format", "enum"} & set(prop)
            if prop.get("type") == "string" and prop.get("minLength", 0) >= 1 and plain:
                prop["pattern"] = r"\S"


def _blank_urls(components):
    """A URL we answer is "" when there is none (Django's URLField keeps blank as ""): answer
    components (not `...Request`) say "a URI or empty" wherever they say "a URI"."""
    for name, component in components.items():
        if name.endswith("Request"):
            continue
        for prop_name, prop in component.get("properties", {}).items():
            if prop.get("type") == "string" and prop.get("format") == "uri":
                uri = {key: value for key, value in prop.items() if key not in ("readOnly", "description")}
                wrapped = {"anyOf": [uri, {"type": "string", "enum": [""]}]}
                wrapped.update({key: prop[key] for key in ("readOnly", "description") if key in prop})
                component["properties"][prop_name] = wrapped


# Fields an answer carries for some callers only (a room's `health`: its owner's).
OWNER_ONLY = {"RoomWithHealth": ["health"]}


def _owner_only(components):
    for name, fields in OWNER_ONLY.items():
        schema = components.get(name, {})
        schema["required"] = [field for field in schema.get("required", []) if field not in fields]


def document_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook: the `Error` component and each operation's error answers."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components[ERROR] = ERROR_SCHEMA
    _non_blank_text(components)
    _blank_urls(components)
    _owner_only(components)
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in {"get", "head", "options", *WRITES}:
                continue
            responses = operation.setdefault("responses", {})
            for status, description, headers in _statuses(method, operation):
                response = {
                    "description": description,
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR}"}}},
                }
                if headers:
                    response["headers"] = headers
                documented = responses.setdefault(str(status), response)
                if headers:  # an operation's own description of a 429 / 503 gets the header too
                    documented.setdefault("headers", headers)
    return result


class DjangoFilterParameters(DjangoFilterExtension):
    """django-filter's parameters as drf-spectacular documents them, plus what it leaves out:
    django-filter takes an empty value (`?owner=`) as no filter, so each one allows it."""

    priority = 1

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        parameters = super().get_schema_operation_parameters(auto_schema, *args, **kwargs)
        for parameter in parameters:
            parameter["allowEmptyValue"] = True
        return parameters


class StrictSerializerSchema(OpenApiSerializerExtension):
    """A `StrictSerializer` refuses fields it does not take (400): its request body says so."""

    target_class = "api.serializers.StrictSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        if direction == "request":
            schema["additionalProperties"] = False
        return schema
