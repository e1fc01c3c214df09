import re

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, Throttled, ValidationError
from rest_framework.fields import DateTimeField
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from liveroom.errors import Conflict

from . import counters, fastpath, listcache, services
from .filters import RoomFilter
from .models import Room, RoomEvent
from .pagination import PAGE_PARAMS, RoomPagination, reject_unknown_params
from .serializers import (
    LikeCountSerializer,
    LikeSerializer,
    RoomInputSerializer,
    RoomSerializer,
    RoomUpdateSerializer,
    RoomWithPushUrlSerializer,
    ViewerCountSerializer,
)
from .throttling import CounterThrottle

OWNER_ACTIONS = {"partial_update", "live", "destroy", "push_url"}
# Authenticated only when they need to know who asks (a cached answer or a like never does).
LAZY_AUTH_ACTIONS = {"list", "retrieve", "join", "like"}
COUNTER_ACTIONS = {"join", "like"}
THROTTLE_SCOPES = {
    "create": "room_write",
    "partial_update": "room_write",
    "live": "room_write",
    "destroy": "room_write",
    "push_url": "room_write",
    "join": "counter",
    "like": "counter",
}


class StreamerBannedError(PermissionDenied):
    default_code = "streamer_banned"

    def __init__(self, banned: services.StreamerBanned):
        super().__init__(str(banned.args[0]))
        self.extra = {"reason": banned.reason, "until": DateTimeField().to_representation(banned.until)}


IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def idempotency_key(request):
    """The optional `Idempotency-Key` header: 1-64 letters, digits and `_.:-` (a UUID fits)."""
    value = request.headers.get("Idempotency-Key", "")
    if value and not IDEMPOTENCY_KEY.match(value):
        raise ValidationError({"Idempotency-Key": ["Use 1-64 letters, digits and _.:- (e.g. a UUID)."]})
    return value


def room_conflict(room):
    if room.status == Room.Status.BANNED:
        return Conflict("This room was banned by a moderator.", code="room_banned")
    return Conflict("This room is closed.", code="room_closed")


class RoomViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The live-room list and a room's lifecycle, as seen by the app."""

    serializer_class = RoomSerializer
    pagination_class = RoomPagination
    filterset_class = RoomFilter
    filter_backends = [DjangoFilterBackend]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        rooms = Room.objects.select_related("owner")
        if self.action == "list":
            return rooms.filter(status=Room.Status.LIVE)
        return rooms

    def get_permissions(self):
        if self.action in OWNER_ACTIONS | {"create", "mine"}:
            return [permissions.IsAuthenticated()]
        return [permissions.AllowAny()]

    def dispatch(self, request, *args, **kwargs):
        response = fastpath.answer(self, request, kwargs.get("pk"))
        return response if response is not None else super().dispatch(request, *args, **kwargs)

    def perform_authentication(self, request):
        if self.action not in LAZY_AUTH_ACTIONS:
            super().perform_authentication(request)

    def get_throttles(self):
        if self.action in COUNTER_ACTIONS:
            return [] if counters.uses_redis() else [CounterThrottle()]
        self.throttle_scope = THROTTLE_SCOPES.get(self.action)
        return [ScopedRateThrottle()] if self.throttle_scope else []

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def get_object(self):
        """A live room for anyone; any room for its owner and staff; 404 otherwise."""
        user = self.request.user
        room = get_object_or_404(self.get_queryset().filter(Room.visible_to(user)), pk=self.kwargs["pk"])
        if self.action in OWNER_ACTIONS and room.owner_id != user.pk:
            raise PermissionDenied("Only the room's owner can do this.", code="not_owner")
        return room

    def _owned_open_room(self):
        room = self.get_object()
        if not room.is_open:
            raise room_conflict(room)
        return room

    def list(self, request, *args, **kwargs):
        """Live rooms; a page missed by the cache (see `fastpath`) is stored for the next ones.

        Three queries whatever the page: the count, the page's ids (an index-only walk of the
        ordering's index, however deep the page), then those rooms with their owners.
        """
        ids = self.paginate_queryset(self.filter_queryset(self.get_queryset()).values_list("pk", flat=True))
        found = self.get_queryset().in_bulk(ids)
        page = [found[pk] for pk in ids if pk in found]  # one that left the list meanwhile is left out
        data = self.get_paginated_response(self.get_serializer(counters.with_pending(page), many=True).data).data
        return self._cached(data)

    def retrieve(self, request, *args, **kwargs):
        """One room; a live room is the same for everyone, so it is cached like a list page."""
        room = self.get_object()
        return self._cached(self._serialized(room), cache=room.status == Room.Status.LIVE)

    def _cached(self, data, cache=True):
        if not cache or self.response_cache is None or not isinstance(self.request.accepted_renderer, JSONRenderer):
            return Response(data)
        body = self.request.accepted_renderer.render(
            data, self.request.accepted_media_type, self.get_renderer_context()
        )
        self.response_cache.set(body)
        return listcache.json_response(body)

    @extend_schema(responses=RoomSerializer(many=True))
    @action(detail=False)
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
                str,
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
        data = self._validated(RoomUpdateSerializer, partial=True)
        if data:
            Room.objects.filter(pk=room.pk).update(**data)
            room.refresh_from_db()
            listcache.invalidate()  # a listed room, or one a cached Xiaozhibo GetUserInfo names
        return Response(self._serialized(room))

    @extend_schema(request=None, responses=RoomSerializer)
    @action(detail=True, methods=["post"])
    def live(self, request, pk=None):
        room = self.get_object()
        if room.status != Room.Status.LIVE:
            services.mark_live(room, source=RoomEvent.Source.API, actor=request.user)
        if room.status != Room.Status.LIVE:
            raise room_conflict(room)
        return Response(self._serialized(room))

    def destroy(self, request, pk=None):
        room = self.get_object()
        services.close_room(room, reason=Room.CloseReason.OWNER, source=RoomEvent.Source.API, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=RoomWithPushUrlSerializer)
    @action(detail=True, methods=["post"], url_path="push-url")
    def push_url(self, request, pk=None):
        room = self._owned_open_room()
        return Response(RoomWithPushUrlSerializer(room, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses={202: ViewerCountSerializer})
    @action(detail=True, methods=["post"])
    def join(self, request, pk=None):
        return Response({"viewer_count": self._increment("viewer_count", 1)}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=LikeSerializer, responses={202: LikeCountSerializer})
    @action(detail=True, methods=["post"])
    def like(self, request, pk=None):
        amount = self._validated(LikeSerializer)["count"]
        return Response({"like_count": self._increment("like_count", amount)}, status=status.HTTP_202_ACCEPTED)

    def _increment(self, field, amount):
        throttle = CounterThrottle().redis_spec(self.request) if counters.uses_redis() else None
        try:
            value = counters.increment(int(self.kwargs["pk"]), field, amount, throttle=throttle)
        except counters.Throttled as exc:
            raise Throttled(wait=exc.wait)
        if value is None:
            raise self.not_live_error(self.kwargs["pk"])
        return value

    def not_live_error(self, pk):
        """The error for a join / like that found the room not live: 404 (raised) for an unknown
        room, else the 409 to raise."""
        room = get_object_or_404(Room, pk=pk)
        return Conflict("This room is not live.", code="room_not_live") if room.is_open else room_conflict(room)

    def _serialized(self, room):
        return self.get_serializer(counters.with_pending([room])[0]).data

    def _validated(self, serializer_class, **kwargs):
        serializer = serializer_class(data=self.request.data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
