"""The Room admin as moderators see it: rooms' own `RoomAdmin`, extended here with the ban /
unban actions, the owner linked to their streamer page, and the room's bans, reports and flags
(rooms stays below moderation and never imports it)."""

from django.contrib import admin

from rooms.admin import RecordingInline, RoomAdmin
from rooms.models import Room

from .admin import RoomBanInline, RoomModerationMixin
from .admin_findings import FlagInline, ReportInline


def _owner_linked(names):
    return tuple("owner_streamer" if name == "owner" else name for name in names)


def _with_findings(inlines):
    """Bans, reports and flags after the room's history, before its recordings."""
    at = inlines.index(RecordingInline)
    return [*inlines[:at], RoomBanInline, ReportInline, FlagInline, *inlines[at:]]


admin.site.unregister(Room)


@admin.register(Room)
class ModeratedRoomAdmin(RoomModerationMixin, RoomAdmin):
    readonly_fields = _owner_linked(RoomAdmin.readonly_fields)
    fields = _owner_linked(RoomAdmin.fields)
    inlines = _with_findings(RoomAdmin.inlines)
