"""Admin: each room's stream health (an inline on the room) and the operator page."""

import math
from datetime import timedelta

from django.contrib import admin
from django.db.models import Count
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from callbacks.models import CallbackEvent
from monitoring import recent
from rooms.models import Room

from . import exposition
from .models import Operations, StreamHealth

REFRESH_SECONDS = 10
WINDOW = timedelta(minutes=5)


class StreamHealthInline(admin.StackedInline):
    model = StreamHealth
    can_delete = False
    verbose_name_plural = "stream health"
    fields = (
        ("fps", "declared_fps"),
        ("kbps", "declared_kbps"),
        "resolution",
        ("degraded", "problems"),
        "checked_at",
        ("exception_type", "exception_count", "exception_at"),
        "exception_detail",
    )
    readonly_fields = [name for row in fields for name in (row if isinstance(row, tuple) else (row,))]

    def has_add_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("rooms.view_room")  # whoever sees the room sees its health


@admin.register(Operations)
class OperationsAdmin(admin.ModelAdmin):
    """Puts the operator page in the admin index, for any staff member."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        return redirect("operations")


def figures() -> dict:
    """Everything the operator page shows."""
    now = timezone.now()
    state = exposition.state()
    callbacks = dict(
        CallbackEvent.objects.filter(received_at__gte=now - WINDOW).values_list("outcome").annotate(n=Count("pk"))
    )
    degraded = (
        StreamHealth.objects.filter(degraded=True, room__status=Room.Status.LIVE)
        .select_related("room")
        .order_by("-checked_at")[:10]
    )
    sweep = recent.last_sweep()
    if sweep:
        sweep["ago"] = max(0, int(now.timestamp() - sweep["at"]))
    return {
        **state,
        "live": state["rooms"].get(Room.Status.LIVE, 0),
        "redis_unreachable": math.isnan(state["unflushed"]),
        "callbacks": callbacks,
        "callbacks_total": sum(callbacks.values()),
        "callbacks_refused": callbacks.get(CallbackEvent.Outcome.REJECTED, 0),
        "cloud_errors": recent.count("cloud_errors"),
        "sweep": sweep,
        "degraded_rooms": [
            {"room": h.room, "health": h, "url": reverse("admin:rooms_room_change", args=[h.room_id])} for h in degraded
        ],
        "at": now,
    }


def _operations(request):
    context = {**admin.site.each_context(request), "title": "Operations", "f": figures(), "refresh": REFRESH_SECONDS}
    template = "admin/monitoring/_figures.html" if request.GET.get("partial") else "admin/monitoring/operations.html"
    response = render(request, template, context)
    response["Cache-Control"] = "private, no-store"
    return response


operations_view = admin.site.admin_view(_operations)
