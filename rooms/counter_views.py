"""`POST /rooms/{id}/join/`, `heartbeat/`, `leave/` and `like/`: thin views over `rooms.counters`.

They are the API's hottest requests, and DRF's request cycle (request wrapping, content
negotiation, per-request authenticator / permission / throttle objects, the renderer) would cost
them more than their work: so `dispatch` reads the JSON body, calls the counter, and answers
JSON bytes itself. They are still APIViews so that DRF describes them in the schema from `post`,
and every error goes through the project's exception handler, so it looks like any other (Redis
unreachable: 503 with Retry-After).

Who asks matters only for a join (a user is one viewer however many tabs) and the throttle (per
user when signed in): a join / like with credentials authenticates them (Token or session, with
its CSRF check), one without costs nothing. A heartbeat / leave needs no credentials: its token
names the viewer. With Redis and no credentials each costs no query and one Redis round trip.
"""

import json

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from api.errors import Conflict, exception_handler
from api.hotpath import has_credentials
from api.parsers import NESTED_TOO_DEEP

from . import counters
from .models import Room
from .serializers import (
    CounterErrorSerializer,
    JoinSerializer,
    LikeCountSerializer,
    LikeSerializer,
    ViewerCountSerializer,
    ViewerTokenSerializer,
)
from .views import UNAVAILABLE, room_conflict


def _error(description):
    return OpenApiResponse(CounterErrorSerializer, description=description)


ERRORS = {
    404: _error("No such room (`not_found`)."),
    409: _error("The room is not live: `room_not_live` (not yet, or interrupted), `room_closed`, `room_banned`."),
    429: _error("Too many counter changes from this user or address (`throttled`); see Retry-After."),
    503: UNAVAILABLE,
}
BODY_ERRORS = {
    400: _error("Invalid body (`invalid` naming the field, `parse_error`); a viewer_token not signed for this room."),
    415: _error("A body that is not application/json (`unsupported_media_type`)."),
}
AUTH_ERRORS = {
    401: _error("Credentials sent but not valid (`authentication_failed`)."),
    403: _error("Session credentials without the CSRF token (`permission_denied`)."),
}
ROOM_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The room's id.")
AUTHENTICATORS = (TokenAuthentication, SessionAuthentication)


class CounterView(APIView):
    """One counter action: `post(request, room_id)` returns the 202 body; see the module doc."""

    authentication_classes = ()
    permission_classes = (AllowAny,)  # anyone; read by the schema only, as are the classes here
    throttle_classes = ()
    http_method_names = ["post"]

    def dispatch(self, request, *args, **kwargs):
        self.args, self.kwargs, self.request, self.headers = args, kwargs, request, {}
        try:
            if request.method != "POST":
                raise exceptions.MethodNotAllowed(request.method)
            body = self.post(request, int(kwargs["id"]))
        except Exception as exc:  # noqa: BLE001 - each goes to the exception handler, or on
            return self._error(exc)
        response = HttpResponse(json.dumps(body, separators=(",", ":")), status=202, content_type="application/json")
        response["Vary"] = "Accept"
        return response

    def _error(self, exc):
        if isinstance(exc, counters.Throttled):
            exc = exceptions.Throttled(wait=exc.wait)
        elif isinstance(exc, counters.NotLive):
            exc = not_live_error(self.kwargs["id"])
        elif isinstance(exc, counters.BadToken):
            exc = exceptions.ValidationError({"viewer_token": [str(exc)]})
        response = exception_handler(exc, {"view": self, "request": self.request})
        if response is None:
            raise exc
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            response["WWW-Authenticate"] = TokenAuthentication().authenticate_header(self.request)
        if isinstance(exc, exceptions.MethodNotAllowed):
            response["Allow"] = "POST"
        response.accepted_renderer, response.accepted_media_type = JSONRenderer(), "application/json"
        response.renderer_context = {}
        return response.render()


def not_live_error(pk):
    """The error for a change that found the room not live: 404 for an unknown room, else 409."""
    try:
        room = get_object_or_404(Room, pk=pk)
    except Http404 as missing:
        return missing
    return Conflict("This room is not live.", code="room_not_live") if room.is_open else room_conflict(room)


def user_id(request):
    """The id of the signed-in user sending `request`, or None; only requests that carry
    credentials are authenticated (bad ones: 401, a session without its CSRF token: 403)."""
    if not has_credentials(request):
        return None
    user = Request(request, authenticators=[auth() for auth in AUTHENTICATORS]).user
    return user.pk if user.is_authenticated else None


def json_body(request):
    """The JSON body as DRF's JSONParser would take it; none at all is `{}`."""
    if not request.body:
        return {}
    if request.content_type != "application/json":
        raise exceptions.UnsupportedMediaType(request.content_type)
    try:
        return json.loads(request.body)
    except RecursionError:
        raise exceptions.ParseError(NESTED_TOO_DEEP) from None
    except ValueError as exc:
        raise exceptions.ParseError(f"JSON parse error - {exc}") from None


def validated(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def viewer_token(request):
    data = json_body(request)
    if isinstance(data, dict) and data.keys() == {"viewer_token"} and isinstance(data["viewer_token"], str):
        return data["viewer_token"]  # what the serializer takes as it is
    return validated(ViewerTokenSerializer, data)["viewer_token"]


def like_count(request):
    """The `count` of a like body; a plain `{"count": n}` (whole number 1-50) without the
    serializer, anything else as LikeSerializer judges it."""
    data = json_body(request)
    if isinstance(data, dict) and data.keys() <= {"count"}:
        count = data.get("count", 1)
        if type(count) is int and 1 <= count <= 50:
            return count
    return validated(LikeSerializer, data)["count"]


class JoinView(CounterView):
    authentication_classes = AUTHENTICATORS

    @extend_schema(
        operation_id="rooms_join",
        summary="A viewer opened the room",
        request=None,
        parameters=[ROOM_ID],
        responses={202: JoinSerializer, **ERRORS, **AUTH_ERRORS},
        tags=["rooms"],
    )
    def post(self, request, room_id):
        """Counts the caller as watching: the user when signed in (any number of tabs count
        once), else a new anonymous viewer. Send `heartbeat/` every `heartbeat_interval`
        seconds with the `viewer_token`, and `leave/` when done."""
        uid = user_id(request)
        viewer = counters.new_viewer(uid)
        count = counters.join(room_id, viewer, counters.client(request, user_id=uid))
        return {
            "viewer_count": count,
            "viewer_token": counters.token_for(room_id, viewer),
            "heartbeat_interval": settings.HEARTBEAT_INTERVAL,
        }


class ViewerView(CounterView):
    """A change of the viewer a `viewer_token` names (`change`: counters.heartbeat or leave)."""

    change = staticmethod(counters.heartbeat)

    def post(self, request, room_id):
        viewer = counters.viewer_of(room_id, viewer_token(request))
        return {"viewer_count": self.change(room_id, viewer, counters.client_of_viewer(request, viewer))}


def _viewer_schema(operation_id, summary, description):
    return extend_schema_view(
        post=extend_schema(
            operation_id=operation_id,
            summary=summary,
            description=description,
            request=ViewerTokenSerializer,
            parameters=[ROOM_ID],
            responses={202: ViewerCountSerializer, **BODY_ERRORS, **ERRORS},
            tags=["rooms"],
        )
    )


@_viewer_schema(
    "rooms_heartbeat",
    "A viewer is still watching",
    "Keeps the viewer counted for VIEWER_TIMEOUT more seconds; a viewer who lapsed counts again, once.",
)
class HeartbeatView(ViewerView):
    change = staticmethod(counters.heartbeat)


@_viewer_schema("rooms_leave", "A viewer left", "The viewer stops counting; a repeat changes nothing.")
class LeaveView(ViewerView):
    change = staticmethod(counters.leave)


class LikeView(CounterView):
    authentication_classes = AUTHENTICATORS

    @extend_schema(
        operation_id="rooms_like",
        summary="Likes",
        request=LikeSerializer,
        parameters=[ROOM_ID],
        responses={202: LikeCountSerializer, **BODY_ERRORS, **ERRORS, **AUTH_ERRORS},
        tags=["rooms"],
    )
    def post(self, request, room_id):
        """Adds `count` (1-50, default 1) likes."""
        amount = like_count(request)
        return {"like_count": counters.like(room_id, amount, counters.client(request, user_id=user_id(request)))}
