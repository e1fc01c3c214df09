"""Viewer and like counters.

Embedded mode (no REDIS_URL): each increment is one atomic `F()` update on the room row.
"""

from django.db.models import F

from .models import Room

FIELDS = ("viewer_count", "like_count")


def increment(room_id: int, field: str, amount: int = 1) -> int | None:
    """Add `amount` to a live room's counter; the new value, or None when the room is not live."""
    assert field in FIELDS
    updated = Room.objects.filter(pk=room_id, status=Room.Status.LIVE).update(**{field: F(field) + amount})
    if not updated:
        return None
    return Room.objects.values_list(field, flat=True).get(pk=room_id)


def with_pending(rooms):
    """Counts as users should see them. The database holds everything in embedded mode."""
    return rooms
