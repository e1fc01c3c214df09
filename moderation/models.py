from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import User


class BanQuerySet(models.QuerySet):
    def unlifted(self):
        return self.filter(lifted_at__isnull=True)

    def active(self, now=None):
        """Bans in force: not lifted and not past their end (the beat task lifts those soon)."""
        now = now or timezone.now()
        return self.unlifted().filter(Q(until__isnull=True) | Q(until__gt=now))

    def expired(self, now=None):
        return self.unlifted().filter(until__lte=now or timezone.now())


class Ban(models.Model):
    reason = models.CharField(max_length=500)
    until = models.DateTimeField(null=True, blank=True, help_text="Empty: permanent.")
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty on a lifted ban: it expired.",
    )

    objects = BanQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def is_active(self):
        return self.lifted_at is None and (self.until is None or self.until > timezone.now())


class StreamerBan(Ban):
    """A streamer may not open rooms while this holds; their open room was banned with it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="streamer_bans")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(lifted_at__isnull=True), name="one_unlifted_ban_per_user"
            )
        ]
        permissions = [("ban_streamer", "Can ban and unban streamers")]

    def __str__(self):
        return f"ban of {self.user}"


class RoomBan(Ban):
    """A room's ban and its enforcement at the cloud.

    The room turned `banned` when this was created, for good. While the ban holds, the room's
    stream is forbidden at the cloud; once lifted, it is resumed. `cloud_revision` counts the
    changes of what the cloud should be told; `cloud_confirmed` says whether the cloud has
    acknowledged the latest one.
    """

    room = models.ForeignKey("rooms.Room", on_delete=models.CASCADE, related_name="bans")
    streamer_ban = models.ForeignKey(
        StreamerBan, null=True, blank=True, on_delete=models.SET_NULL, related_name="room_bans"
    )
    cloud_revision = models.PositiveIntegerField(default=1)
    cloud_confirmed = models.BooleanField("enforced at the cloud", default=False, db_index=True)
    cloud_confirmed_at = models.DateTimeField(null=True, blank=True)
    cloud_forbidden_until = models.DateTimeField(
        null=True, blank=True, help_text="The ResumeTime the cloud was given (at most 90 days ahead)."
    )
    cloud_attempts = models.PositiveIntegerField(default=0)
    cloud_error = models.TextField(blank=True, help_text="The last failure, cleared when the cloud confirms.")
    cloud_updated_at = models.DateTimeField(default=timezone.now, help_text="Last request or attempt.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["room"], condition=Q(lifted_at__isnull=True), name="one_unlifted_ban_per_room"
            )
        ]
        permissions = [("ban_room", "Can ban and unban rooms")]

    def __str__(self):
        return f"ban of room {self.room_id}"


class Streamer(User):
    """Users as moderators see them: who they are, whether they are banned."""

    class Meta:
        proxy = True


class ModerationAction(models.Model):
    """The audit log: one row per moderation action, never edited or deleted.

    The only later write is the enforcement task filling in `cloud_result` (and its detail)
    once the cloud answers for the ban revision this action asked for.
    """

    class Kind(models.TextChoices):
        BAN_ROOM = "ban_room", "Ban room"
        UNBAN_ROOM = "unban_room", "Unban room"
        EXPIRE_ROOM_BAN = "expire_room_ban", "Room ban expired"
        BAN_STREAMER = "ban_streamer", "Ban streamer"
        UNBAN_STREAMER = "unban_streamer", "Unban streamer"
        EXPIRE_STREAMER_BAN = "expire_streamer_ban", "Streamer ban expired"

    class CloudResult(models.TextChoices):
        PENDING = "pending", "Pending"
        CONFIRMED = "confirmed", "Confirmed"
        FAILED = "failed", "Failed, retrying"
        NONE = "none", "Nothing to tell the cloud"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty: the system (a timed ban ran out).",
    )
    action = models.CharField(max_length=32, choices=Kind.choices)
    target = models.CharField(max_length=255, help_text="What was acted on, as it was then.")
    target_room = models.ForeignKey("rooms.Room", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=500, blank=True)
    until = models.DateTimeField(null=True, blank=True)
    room_ban = models.ForeignKey(RoomBan, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    cloud_revision = models.PositiveIntegerField(null=True, blank=True)
    cloud_result = models.CharField(max_length=16, choices=CloudResult.choices, default=CloudResult.PENDING)
    cloud_detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.get_action_display()}: {self.target}"
