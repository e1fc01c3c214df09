from django.conf import settings
from django.db import models
from django.db.models import Q


class RoomQuerySet(models.QuerySet):
    def live(self):
        """The rooms in the public list."""
        return self.filter(status=Room.Status.LIVE)

    def visible_to(self, user):
        """The rooms `user` may see: a live room for anyone; any room for its owner and staff.

        The one rule of who sees a room: the API's retrieve (and the owner's actions), the watch
        page, its state answer and the event streams all ask it."""
        if user.is_staff:
            return self.all()
        if user.is_authenticated:
            return self.filter(Q(status=Room.Status.LIVE) | Q(owner=user))
        return self.live()


class Room(models.Model):
    """A live room. Its `status` is written only by `rooms.services`."""

    class Status(models.TextChoices):
        CREATED = "created", "Created"
        LIVE = "live", "Live"
        INTERRUPTED = "interrupted", "Interrupted"
        CLOSED = "closed", "Closed"
        BANNED = "banned", "Banned"

    class CloseReason(models.TextChoices):
        OWNER = "owner", "Closed by owner"
        STREAM_ENDED = "stream_ended", "Stream ended"
        ZOMBIE = "zombie", "Stream vanished (zombie)"
        EXPIRED = "expired", "Never went live"
        REPLACED = "replaced", "Replaced by a new room"

    OPEN_STATUSES = (Status.CREATED, Status.LIVE, Status.INTERRUPTED)

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rooms")
    stream_id = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=64)
    cover_url = models.URLField(max_length=500, blank=True)
    location = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED)
    close_reason = models.CharField(max_length=16, choices=CloseReason.choices, blank=True)
    viewer_count = models.PositiveBigIntegerField(default=0, help_text="Watching now (0 once the room leaves live).")
    view_count = models.PositiveBigIntegerField(
        default=0, help_text="Distinct viewers so far (an estimate with Redis)."
    )
    peak_viewer_count = models.PositiveBigIntegerField(default=0, help_text="The most watching at once.")
    like_count = models.PositiveBigIntegerField(default=0)
    counter_seq = models.PositiveBigIntegerField(
        default=0,
        help_text="Version of the counts above written by the counter flush; an older flush never overwrites a newer one.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    interrupted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    last_seen_live_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(
        null=True, blank=True, help_text="Time of the newest cloud event applied; older events are ignored."
    )
    offline_strikes = models.PositiveSmallIntegerField(default=0)
    push_sequence = models.CharField(max_length=64, blank=True, help_text="Tencent's sequence of the current push.")
    snapshot_url = models.URLField(max_length=500, blank=True)
    idempotency_key = models.CharField(
        max_length=64, blank=True, help_text="The app's Idempotency-Key of the request that opened the room."
    )

    objects = RoomQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner"],
                condition=Q(status__in=["created", "live", "interrupted"]),
                name="one_open_room_per_owner",
            ),
            models.UniqueConstraint(
                fields=["owner", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="one_room_per_idempotency_key",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-started_at", "-id"], name="room_list_started"),
            models.Index(fields=["status", "-viewer_count", "-id"], name="room_list_viewers"),
            models.Index(fields=["status", "-like_count", "-id"], name="room_list_likes"),
            models.Index(fields=["owner", "-created_at"], name="room_owner_created"),
        ]

    def __str__(self):
        return f"{self.title} ({self.stream_id})"

    @property
    def is_open(self):
        return self.status in self.OPEN_STATUSES


class RoomViewer(models.Model):
    """A viewer of a live room in embedded mode (no Redis; with Redis, `rooms.counters` keeps
    them there). Watching while `expires_at` lies ahead; the row stays after the viewer leaves,
    so that `view_count` counts each viewer once, and goes when the room closes."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    viewer = models.CharField(
        max_length=130, help_text="`u<user id>`, `x<Xiaozhibo userid>`, or `a<random>` for an anonymous viewer."
    )
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "viewer"], name="one_row_per_room_viewer")]
        indexes = [models.Index(fields=["room", "expires_at"], name="room_viewer_expires")]

    def __str__(self):
        return f"{self.room_id}: {self.viewer}"


class RoomEvent(models.Model):
    """One row per status transition of a room."""

    class Source(models.TextChoices):
        API = "api", "API"
        CALLBACK = "callback", "Tencent callback"
        SWEEPER = "sweeper", "Sweeper"
        ADMIN = "admin", "Admin"
        SYSTEM = "system", "System"
        XIAOZHIBO = "xiaozhibo", "Xiaozhibo protocol"

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="events")
    old_status = models.CharField(max_length=16, choices=Room.Status.choices)
    new_status = models.CharField(max_length=16, choices=Room.Status.choices)
    reason = models.CharField(max_length=500, blank=True, help_text="As long as a ban's reason may be.")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.room_id}: {self.old_status} → {self.new_status}"


class Recording(models.Model):
    """A recording file of a room's stream, reported by Tencent's recording callback (event 100)."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="recordings")
    file_id = models.CharField(max_length=64, blank=True, help_text="Tencent VOD file id.")
    video_url = models.URLField(max_length=1000)
    format = models.CharField(max_length=16, blank=True, help_text="flv, hls, mp4 or aac.")
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration = models.PositiveIntegerField(null=True, blank=True, help_text="Seconds.")
    size = models.PositiveBigIntegerField(null=True, blank=True, help_text="Bytes.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["room", "started_at", "id"]

    def __str__(self):
        return f"{self.room_id}: {self.video_url}"
