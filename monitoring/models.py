from django.db import models


class StreamHealth(models.Model):
    """A room's latest stream health: what the cloud measured against what the encoder declared.

    Written by `monitoring.health` (the once-a-minute DescribeLiveStreamPushInfoList check and
    the push-exception callback, event 321); `degraded` and `problems` follow the rule there.
    """

    room = models.OneToOneField("rooms.Room", on_delete=models.CASCADE, primary_key=True, related_name="health")
    fps = models.FloatField(null=True, blank=True, help_text="Video frames per second the cloud receives.")
    kbps = models.PositiveIntegerField(null=True, blank=True, help_text="Video bitrate the cloud receives (kbit/s).")
    resolution = models.CharField(max_length=16, blank=True, help_text="e.g. 1280x720")
    declared_fps = models.FloatField(null=True, blank=True, help_text="The encoder's frame rate (stream metadata).")
    declared_kbps = models.PositiveIntegerField(null=True, blank=True, help_text="The encoder's video bitrate.")
    degraded = models.BooleanField(default=False, db_index=True)
    problems = models.JSONField(default=list, blank=True, help_text="low_fps, low_bitrate, push_exception")
    checked_at = models.DateTimeField(null=True, blank=True, help_text="When the cloud last reported the stream.")
    exception_type = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Event 321's type (1-11).")
    exception_detail = models.CharField(max_length=255, blank=True)
    exception_count = models.PositiveIntegerField(null=True, blank=True)
    exception_at = models.DateTimeField(null=True, blank=True, help_text="When the last push exception was reported.")

    class Meta:
        verbose_name = verbose_name_plural = "stream health"

    def __str__(self):
        return f"health of room {self.room_id}"


class Operations(StreamHealth):
    """The operator page's entry in the admin index (no data of its own; see `monitoring.admin`)."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "operations overview"
        default_permissions = ()
