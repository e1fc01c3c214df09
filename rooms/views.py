import re

from django import db
from django.core.exceptions import ObjectDoesNotExist
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.fields import DateTimeField
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from api import httpcache
from api.errors import Conflict
from api.serializers import ErrorSerializer

from . import counters, cursors, fastpath, listcache, selectors, services
from .filters import RoomFilter
from .models import Room, RoomEvent
from .pagination import PAGE_PARAMS, RoomPagination, reject_unknown_params
from .serializers import (
    RoomInputSerializer,
    RoomSerializer,
    RoomUpdateSerializer,
    RoomWithHealthSerializer,
    RoomWithPushUrlSerializer,
)

OWNER_ACTIONS = {"partial_update", "live", "destroy", "push_url"}
# Authenticated only when they need to know who asks (a cached answer never does).
# join / heartbeat / leave / like are `rooms.counter_views`.
LAZY_AUTH_ACTIONS = {"list", "retrieve"}
THROTTLE_SCOPES = {
    "create": "room_write",
    "partial_update": "room_write",
    "live": "room_write",
    "destroy": "room_write",
    "push_url": "room_write",
}


UNAVAILABLE = OpenApiResponse(
    ErrorSerializer,
    description="`unavailable`: what the answer needs cannot be reached right now (Redis for the counts; the"
    " database, for an answer not cached); try again after `Retry-After` seconds.",
)


def stream_health(room):
    """The room's latest stream health (see `monitoring.health`), None before the first check."""
    from monitoring.health import as_dict  # the health is kept by the app above this one

    try:
        return as_dict(room.health)
    except ObjectDoesNotExist:
        return None


class StreamerBannedError(PermissionDenied):
    default_code = "streamer_banned"

    def __init__(self, banned: services.StreamerBanned):
        super().__init__(str(banned.args[0]))
        self.extra = {"reason": banned.reason, "until": DateTimeField().to_representation(banned.until)}


IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{0,64}$")  # also the schema's pattern; empty: no key


def idempotency_key(request):
    """The optional `Idempotency-Key` header: 1-64 letters, digits and `_.:-` (a UUID fits)."""
    value = request.headers.get("Idempotency-Key", "")
    if not IDEMPOTENCY_KEY.fullmatch(value):
        raise ValidationError({"Idempotency-Key": ["Use 1-64 letters, digits and _.:- (e.g. a UUID)."]})
    return value


# HTTP caching of public answers (api.httpcache), as the schema states it.
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    str,
    OpenApiParameter.HEADER,
    description="The ETag of an earlier answer: 304 without a body while that answer is still current.",
)
NOT_MODIFIED = OpenApiResponse(description="Not modified: the ETag in If-None-Match is still current (no body).")
CACHE_HEADERS = [
    IF_NONE_MATCH,
    OpenApiParameter(
        "ETag",
        str,
        OpenApiParameter.HEADER,
        response=[200, 304],
        description="A strong validator (public answers only).",
    ),
    OpenApiParameter(
        "Cache-Control",
        str,
        OpenApiParameter.HEADER,
        response=[200, 304],
        description="public, max-age=ROOM_LIST_CACHE_TTL, stale-while-revalidate=ROOM_LIST_CACHE_TTL for public "
        "answers; private, no-store for a room only its owner or staff may see.",
    ),
]


def room_conflict(room):
    if room.status == Room.Status.BANNED:
        return Conflict("This room was banned by a moderator.", code="room_banned")
    return Conflict("This room is closed.", code="room_closed")


class RoomViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The live-room list and a room's lifecycle, as seen by the app."""

    serializer_class = RoomSerializer
    pagination_class = cursors.RoomListPagination
    filterset_class = RoomFilter  # for the schema: the list filters through `selectors.listed`
    filter_backends = [DjangoFilterBackend]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        rooms = Room.objects.select_related("owner")
        if self.action == "list":
            return rooms.live()
        return rooms

    def get_permissions(self):
        if self.action in OWNER_ACTIONS | {"create", "mine"}:
            return [permissions.IsAuthenticated()]
        return [permissions.AllowAny()]

    # For the WSGI front (api.front): a GET's answer straight from the cache, or None.
    cached_answer = staticmethod(fastpath.cached_response)

    def dispatch(self, request, *args, **kwargs):
        response = fastpath.answer(self, request, kwargs.get("pk"))
        return response if response is not None else super().dispatch(request, *args, **kwargs)

    def handle_exception(self, exc):
        """The database cannot be reached: a list page or live room answered before is served as
        it was, up to STALE_IF_ERROR past its freshness (`listcache`); anything else is a 503."""
        cache = getattr(self, "response_cache", None)
        if cache is not None:
            cache.release()  # an error answer is not stored: whoever waits for it computes their own
        if cache is not None and isinstance(exc, db.OperationalError | db.InterfaceError):
            body = cache.stale()
            if body is not None:
                return listcache.json_response(body)
        return super().handle_exception(exc)

    def perform_authentication(self, request):
        if self.action not in LAZY_AUTH_ACTIONS:
            super().perform_authentication(request)

    def get_throttles(self):
        self.throttle_scope = THROTTLE_SCOPES.get(self.action)
        return [ScopedRateThrottle()] if self.throttle_scope else []

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def get_object(self):
        """A live room for anyone; any room for its owner and staff; 404 otherwise."""
        user = self.request.user
        room = get_object_or_404(self.get_queryset().visible_to(user), pk=self.kwargs["pk"])
        if self.action in OWNER_ACTIONS and room.owner_id != user.pk:
            raise PermissionDenied("Only the room's owner can do this.", code="not_owner")
        return room

    def _owned_open_room(self):
        room = self.get_object()
        if not room.is_open:
            raise room_conflict(room)
        return room

    @extend_schema(
        parameters=CACHE_HEADERS,
        responses={
            200: RoomSerializer(many=True),
            304: NOT_MODIFIED,
            400: OpenApiResponse(
                cursors.CURSOR_ERROR,
                "A bad parameter, or a cursor that expired or was not given out here.",
                cursors.CURSOR_ERROR_EXAMPLES,
            ),
            404: OpenApiResponse(cursors.CURSOR_ERROR, "A `page` past the last page."),
            503: UNAVAILABLE,
        },
    )
    def list(self, request, *args, **kwargs):
        """Live rooms; a page missed by the cache (see `fastpath`) is stored for the next ones.

        Three queries at most whatever the page: the count, the page's ids (an index-only walk of
        the ordering's index, however deep the page), then those rooms with their owners. A page
        of a snapshot walk (`rooms.cursors`) needs one: its ids and count come from Redis.
        """
        ids = self.paginate_queryset(selectors.listed(request.query_params).values_list("pk", flat=True))
        page = selectors.page_rooms(ids, self.paginator.with_counts)
        data = self.get_paginated_response(self.get_serializer(page, many=True).data).data
        return self._cached(data)

    @extend_schema(
        parameters=CACHE_HEADERS, responses={200: RoomWithHealthSerializer, 304: NOT_MODIFIED, 503: UNAVAILABLE}
    )
    def retrieve(self, request, *args, **kwargs):
        """One room; a live room is the same for everyone, so it is cached like a list page."""
        room = self.get_object()
        if room.owner_id == request.user.pk:  # the owner also sees the stream's health: personal
            data = {**self._serialized(room), "health": stream_health(room)}
            return self._personal(data, revalidate=room.status == Room.Status.LIVE)
        return self._cached(self._serialized(room), cache=room.status == Room.Status.LIVE)

    def _personal(self, data, revalidate):
        """The caller's own answer: never in a shared cache; with `revalidate` (a live room, which the
        studio polls) the browser may revalidate it with its ETag (304), else `private, no-store`."""
        if not revalidate or not isinstance(self.request.accepted_renderer, JSONRenderer):
            return Response(data)
        body = self.request.accepted_renderer.render(
            data, self.request.accepted_media_type, self.get_renderer_context()
        )
        return httpcache.private_json(self.request, body)

    def _cached(self, data, cache=True):
        """A public answer (`api.httpcache`: shared caches may keep it, ETag, 304), stored for
        the fast path when the cache is on; `cache=False` (the caller's own view): a personal one."""
        if not cache or not isinstance(self.request.accepted_renderer, JSONRenderer):
            return Response(data)
        body = self.request.accepted_renderer.render(
            data, self.request.accepted_media_type, self.get_renderer_context()
        )
        etag = httpcache.etag(body)
        if self.response_cache is not None:
            self.response_cache.set(body, etag)
        return httpcache.public_json(self.request, body, etag)

    @extend_schema(responses=RoomSerializer(many=True), filters=False)  # it takes page and page_size only
    @action(detail=False, pagination_class=RoomPagination)
    def mine(self, request):
        reject_unknown_params(request.query_params, PAGE_PARAMS)
        rooms = Room.objects.select_related("owner").filter(owner=request.user).order_by("-created_at", "-id")
        page = self.paginate_queryset(rooms)
        return self.get_paginated_response(self.get_serializer(counters.with_pending(page), many=True).data)

    @extend_schema(
        request=RoomInputSerializer,
        responses={201: RoomWithPushUrlSerializer},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                {"type": "string", "pattern": IDEMPOTENCY_KEY.pattern},
                OpenApiParameter.HEADER,
                description="Retrying with the same key returns the room the first request opened.",
            )
        ],
    )
    def create(self, request):
        data = self._validated(RoomInputSerializer)
        try:
            room = services.create_room(request.user, **data, idempotency_key=idempotency_key(request))
        except services.StreamerBanned as banned:
            raise StreamerBannedError(banned) from None
        return Response(
            RoomWithPushUrlSerializer(room, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=RoomUpdateSerializer, responses=RoomSerializer)
    def partial_update(self, request, pk=None):
        room = self._owned_open_room()
        services.update_room(room, **self._validated(RoomUpdateSerializer, partial=True))
        return Response(self._serialized(room))

    @extend_schema(request=None, responses=RoomSerializer)
    @action(detail=True, methods=["post"])
    def live(self, request, pk=None):
        room = self.get_object()
        if room.status != Room.Status.LIVE and not services.mark_live(
            room, source=RoomEvent.Source.API, actor=request.user
        ):
            room.refresh_from_db()  # another report (or the push callback) got there first
        if room.status != Room.Status.LIVE:
            raise room_conflict(room)
        return Response(self._serialized(room))

    @extend_schema(
        description="Close the room (`close_reason` `owner`): it leaves the list at once and stays readable "
        "by its owner and staff, as `closed`; closing is not deleting. Again on a closed room: 204 too."
    )
    def destroy(self, request, pk=None):
        room = self.get_object()
        services.close_room(room, reason=Room.CloseReason.OWNER, source=RoomEvent.Source.API, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=RoomWithPushUrlSerializer)
    @action(detail=True, methods=["post"], url_path="push-url")
    def push_url(self, request, pk=None):
        room = self._owned_open_room()
        return Response(RoomWithPushUrlSerializer(room, context=self.get_serializer_context()).data)

    def _serialized(self, room):
        return self.get_serializer(counters.with_pending([room])[0]).data

    def _validated(self, serializer_class, **kwargs):
        serializer = serializer_class(data=self.request.data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
