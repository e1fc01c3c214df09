from django.conf import settings
from django.db import models

from rooms.models import Room


class Account(models.Model):
    """A Xiaozhibo `userid` and the liveroom user it acts as, created on its first use.

    The v1 protocol has no authentication: whoever sends a `userid` acts as this user.
    """

    userid = models.CharField(max_length=128, unique=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="xiaozhibo_account")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.userid


class RoomInfo(models.Model):
    """What the protocol keeps about a room that `Room` has no field for. Rooms opened through
    the protocol have one; only those are listed to Xiaozhibo apps (they carry the IM group id
    the app must join to watch)."""

    room = models.OneToOneField(Room, on_delete=models.CASCADE, primary_key=True, related_name="xiaozhibo")
    groupid = models.CharField(max_length=128, help_text="The IM group the anchor created for the room.")
    desc = models.CharField(max_length=255, blank=True)

    def __str__(self):
        return f"{self.room_id}: {self.groupid}"
