"""The viewer's side: server-rendered pages over the same data as the REST API.

Each page renders its first state on the server and embeds the API's JSON for it, so the
page's JavaScript can keep it fresh through the API without a second source of truth.
"""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from rest_framework.utils.urls import replace_query_param

from . import counters, cursors, selectors
from .filters import ORDERINGS
from .models import Room
from .serializers import RoomSerializer, RoomWithPushUrlSerializer

LIST_API = "/api/v1/rooms/"
MORE_ROOMS = 4  # other live rooms suggested under the player


def live_list(request):
    """`/`: the first page of GET /api/v1/rooms/ (the same selector, parameter rules and cursor walk)."""
    params = selectors.lenient(request.GET)
    ordering, size = params["ordering"], params["page_size"]
    walk = cursors.Walk(ordering, cursors.scope_of(ordering), size)
    rooms = selectors.page_rooms(walk.page(selectors.listed({"ordering": ordering})), walk.with_counts)
    rooms = RoomSerializer(rooms, many=True, context={"now": timezone.now()}).data
    api_url = f"{LIST_API}?ordering={ordering}&page_size={size}"
    return render(
        request,
        "rooms/live_list.html",
        {
            "nav": "live",
            "rooms": rooms,
            "count": walk.count,
            "orderings": ORDERINGS,
            "ordering": ordering,
            "api_url": api_url,
            # the same link as the API's `next` (the same cached page): "Load more" walks cursors
            "next_url": replace_query_param(api_url, "cursor", walk.next.encode()) if walk.next else "",
            "refresh_seconds": settings.WEB_LIST_REFRESH,
        },
    )


def watch(request, pk):
    """`/rooms/{id}/`: a live room for anyone; any room for its owner and staff; 404 otherwise
    (the visibility rule of GET /api/v1/rooms/{id}/)."""
    room = get_object_or_404(Room.objects.select_related("owner").visible_to(request.user), pk=pk)
    others = Room.objects.select_related("owner").live().exclude(pk=room.pk)
    rooms = counters.with_pending([room, *others.order_by("-viewer_count", "-id")[:MORE_ROOMS]])
    data = RoomSerializer(rooms, many=True, context={"now": timezone.now()}).data
    return render(
        request,
        "rooms/watch.html",
        {
            "room": data[0],
            "more_rooms": data[1:],
            "api_url": f"{LIST_API}{room.pk}/",
            "state_url": f"{reverse('watch-state', args=[room.pk])}?key={_state_key(room.pk)}",
            "refresh_seconds": settings.WEB_ROOM_REFRESH,
        },
    )


@never_cache
def watch_state(request, pk):
    """`/rooms/{id}/state/`: whether a room that left GET /api/v1/rooms/{id}/ for viewers is
    interrupted (its streamer may reconnect) or has ended. It answers for rooms the caller may see,
    and, with the `key` its watch page carries, for the room that page was shown for; any other
    room is the 404 of one that does not exist. Rooms never live stay unknown."""
    rooms = Room.objects.exclude(status=Room.Status.CREATED)
    if not constant_time_compare(request.GET.get("key", ""), _state_key(pk)):
        rooms = rooms.visible_to(request.user)
    status = get_object_or_404(rooms.values_list("status", flat=True), pk=pk)
    state = status if status in (Room.Status.LIVE, Room.Status.INTERRUPTED) else "ended"
    return JsonResponse({"state": state})


def _state_key(pk):
    """Proof that a watch page of room `pk` was shown (to someone who could see the room then)."""
    return signing.Signer(salt="rooms.watch-state").signature(str(pk))


@never_cache
@login_required
def studio(request):
    """`/studio/`: the streamer's open room with its push URL, or a form to open one."""
    mine = Room.objects.select_related("owner").filter(owner=request.user).order_by("-created_at", "-id")
    room = mine.filter(status__in=Room.OPEN_STATUSES).first()
    context = {"now": timezone.now()}
    return render(
        request,
        "rooms/studio.html",
        {
            "nav": "studio",
            "room": RoomWithPushUrlSerializer(room, context=context).data if room else None,
            "past_rooms": mine.exclude(status__in=Room.OPEN_STATUSES)[:8],
            "api_url": LIST_API,
            "refresh_seconds": settings.WEB_ROOM_REFRESH,
        },
    )


class LogoutView(auth_views.LogoutView):
    """Django's logout is POST-only; a GET shows a page with the button instead of a 405."""

    http_method_names = ["get", "post", "options"]

    def get(self, request, *args, **kwargs):
        return render(request, "registration/logout_confirm.html")
