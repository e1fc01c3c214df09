from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from rooms.models import Room


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
        DISMISS = "dismiss", "Dismiss reports and flags"

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


# --- finding violations (SPEC §8.1) -----------------------------------------------------------


class Decision(models.Model):
    """A moderator's (or the system's) decision on a room's open reports and flags.

    Every report and flag it settled points at it; `first_signal_at` is the earliest of them,
    so `decided_at - first_signal_at` is how long the room waited for a decision.
    """

    class Outcome(models.TextChoices):
        BANNED = "banned", "Banned"
        DISMISSED = "dismissed", "Dismissed"

    room = models.ForeignKey("rooms.Room", on_delete=models.CASCADE, related_name="decisions")
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty: the system (an automatic ban on a Block verdict).",
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    decided_at = models.DateTimeField(default=timezone.now, db_index=True)
    first_signal_at = models.DateTimeField()
    reports = models.PositiveIntegerField(default=0)
    flags = models.PositiveIntegerField(default=0)
    action = models.ForeignKey("ModerationAction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-decided_at", "-id"]

    def __str__(self):
        return f"{self.get_outcome_display()}: room {self.room_id}"

    @property
    def time_to_decision(self):
        return self.decided_at - self.first_signal_at


class Signal(models.Model):
    """What reports and flags share: when, and the decision that settled it (None: still open)."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    decision = models.ForeignKey(Decision, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        abstract = True


class Report(Signal):
    """A viewer's report of a live room. One reporter's repeats on a room within an hour are one row."""

    class Reason(models.TextChoices):
        SEXUAL = "sexual", "Sexual content"
        VIOLENCE = "violence", "Violence"
        HATE = "hate", "Hate or harassment"
        SPAM = "spam", "Spam or scam"
        MINOR = "minor", "A minor at risk"
        OTHER = "other", "Something else"

    room = models.ForeignKey("rooms.Room", on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reporter_key = models.CharField(
        max_length=80, help_text="Who reported: the account, or the address of a viewer not signed in."
    )
    reason = models.CharField(max_length=16, choices=Reason.choices)
    detail = models.CharField(max_length=500, blank=True)
    source = models.CharField(max_length=16, default="api", help_text="api or xiaozhibo.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["room", "reporter_key", "-created_at"], name="report_repeat"),
            models.Index(fields=["room"], condition=Q(decision__isnull=True), name="report_open"),
        ]

    def __str__(self):
        return f"{self.get_reason_display()} on room {self.room_id}"


class Flag(Signal):
    """Tencent's moderation verdict on a frame (event 317) or on speech (event 315)."""

    class Kind(models.TextChoices):
        IMAGE = "image", "Image (317)"
        AUDIO = "audio", "Audio (315)"

    class Suggestion(models.TextChoices):
        BLOCK = "block", "Block"
        REVIEW = "review", "Review"
        PASS = "pass", "Pass"

    room = models.ForeignKey("rooms.Room", on_delete=models.CASCADE, related_name="flags")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    suggestion = models.CharField(max_length=8, choices=Suggestion.choices, db_index=True)
    label = models.CharField(max_length=64, blank=True)
    sub_label = models.CharField(max_length=64, blank=True)
    labels = models.JSONField(default=list, blank=True, help_text="Tencent's type[] (one score per type).")
    scores = models.JSONField(default=list, blank=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The highest score, 0-100.")
    image_url = models.URLField(max_length=1000, blank=True)
    text = models.TextField(blank=True, help_text="Recognised speech (315).")
    captured_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["room"], condition=Q(decision__isnull=True), name="flag_open")]

    def __str__(self):
        return f"{self.get_suggestion_display()} {self.label} on room {self.room_id}"


class QueuedRoom(Room):
    """The moderation queue in the admin: rooms with open reports or flags."""

    class Meta:
        proxy = True
        verbose_name = "room to review"
        verbose_name_plural = "moderation queue"


class WallRoom(Room):
    """The live wall in the admin: every live room's latest frame."""

    class Meta:
        proxy = True
        verbose_name = "live room"
        verbose_name_plural = "live wall"
