from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db import models

from monitoring.admin import StreamHealthInline

from . import counters, services
from .models import Recording, Room, RoomEvent


class RoomEventInline(admin.TabularInline):
    model = RoomEvent
    extra = 0
    can_delete = False
    fields = ("at", "old_status", "new_status", "reason", "source", "actor")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")  # no query per row for its name


class RecordingInline(admin.TabularInline):
    model = Recording
    extra = 0
    can_delete = False
    fields = ("started_at", "ended_at", "duration", "format", "size", "video_url", "file_id")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class RoomChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        self.result_list = counters.with_pending(list(self.result_list))


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    """Rooms; moderation extends it (`moderation.admin_rooms`) with bans, reports and flags."""

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
        "view_count",
        "peak_viewer_count",
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
    inlines = [StreamHealthInline, RoomEventInline, RecordingInline]
    date_hierarchy = "created_at"
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # Django 6's default, without the warning

    def has_add_permission(self, request):
        return False  # rooms are opened by streamers through the API

    def has_delete_permission(self, request, obj=None):
        return False  # a room's end is a transition (close, ban), and its history is kept

    def save_model(self, request, obj, form, change):
        # Only the edited text: a whole-row save would undo a transition (or counts) written meanwhile.
        services.update_room(obj, **{name: form.cleaned_data[name] for name in form.changed_data})

    def get_changelist(self, request, **kwargs):
        return RoomChangeList  # live counts: with the increments not yet flushed

    def get_object(self, request, object_id, from_field=None):
        room = super().get_object(request, object_id, from_field)
        return counters.with_pending([room])[0] if room else room
