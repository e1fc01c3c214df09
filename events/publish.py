"""What the rest of the project tells the event streams: receivers of the room signals.

A status change becomes a kept `status` event on the room's channel and, when the room joins or
leaves the public list, `room.live` (the room's list JSON) or `room.ended` on the list channel.
In embedded mode, a change of counts arrives as a signal and goes on the local bus (in Redis
mode the counter path publishes it itself).
"""

import logging

import redis
from django.dispatch import receiver
from django.utils import timezone

from rooms.models import Room
from rooms.serializers import RoomSerializer
from rooms.signals import counts_changed, room_status_changed

from . import bus

log = logging.getLogger(__name__)
LIVE = Room.Status.LIVE


@receiver(room_status_changed, dispatch_uid="events_status")
def _status_changed(sender, room_id, old_status, new_status, **kwargs):
    try:
        bus.keep(f"room:{room_id}", "status", {"id": room_id, "status": new_status, "old_status": old_status})
        if new_status == LIVE:
            room = Room.objects.select_related("owner").filter(pk=room_id, status=LIVE).first()
            if room is not None:
                bus.keep("list", "room.live", RoomSerializer(room, context={"now": timezone.now()}).data)
        elif old_status == LIVE:
            bus.keep("list", "room.ended", {"id": room_id})
    except redis.RedisError:
        log.warning("room %s: events of its change to %s not published", room_id, new_status, exc_info=True)


@receiver(counts_changed, dispatch_uid="events_counts")
def _counts_changed(sender, room_id, viewer_count, like_count, **kwargs):
    bus.local.deliver(
        bus.Event("", bus.COUNTS, f'{{"id":{room_id},"viewer_count":{viewer_count},"like_count":{like_count}}}')
    )
