from django.contrib import admin

from .models import Room, RoomEvent


class RoomEventInline(admin.TabularInline):
    model = RoomEvent
    extra = 0
    can_delete = False
    fields = ("at", "old_status", "new_status", "reason", "source", "actor")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "title",
        "owner",
        "status",
        "close_reason",
        "viewer_count",
        "like_count",
        "started_at",
        "created_at",
    )
    list_filter = ("status", "close_reason")
    search_fields = ("title", "stream_id", "owner__username", "owner__nickname")
    list_select_related = ("owner",)
    readonly_fields = (
        "owner",
        "stream_id",
        "status",
        "close_reason",
        "viewer_count",
        "like_count",
        "created_at",
        "started_at",
        "interrupted_at",
        "ended_at",
        "last_seen_live_at",
        "last_event_at",
        "offline_strikes",
        "push_sequence",
        "snapshot_url",
    )
    fields = ("title", "cover_url", "location", *readonly_fields)
    inlines = [RoomEventInline]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False  # rooms are opened by streamers through the API
