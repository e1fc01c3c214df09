from django.db import models


class CallbackEvent(models.Model):
    """One Tencent callback as received: its raw body and what became of it.

    Accepted events carry a `dedupe_key` (stream, event type and the event's own identity,
    e.g. push sequence and event time), unique, so a redelivered event is applied once.
    Refused callbacks are sampled (`callbacks.handlers.log_rejected`): alike ones within a
    minute are counted on one row, and past CALLBACK_REFUSED_PER_MINUTE rows a minute, the
    rest of that minute is counted on one more.
    """

    class Outcome(models.TextChoices):
        APPLIED = "applied", "Applied"
        NO_CHANGE = "no_change", "Accepted, nothing to change (stale or already applied)"
        DUPLICATE = "duplicate", "Duplicate of an event already received"
        UNKNOWN_STREAM = "unknown_stream", "Stream of no room"
        IGNORED = "ignored", "Event type not handled"
        REJECTED = "rejected", "Rejected (bad signature, expired or malformed)"

    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    stream_id = models.CharField(max_length=128, blank=True, db_index=True)
    kind = models.IntegerField(
        null=True, blank=True, help_text="The number of the event's kind, as Tencent numbers them."
    )
    sequence = models.CharField(max_length=64, blank=True)
    event_time = models.DateTimeField(null=True, blank=True)
    body = models.TextField(help_text="The request body as received (truncated when rejected).")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    detail = models.CharField(max_length=255, blank=True)
    dedupe_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    repeats = models.PositiveIntegerField(
        default=1, help_text="Refused callbacks: how many alike arrived in the minute this row stands for."
    )
    repeat_key = models.CharField(
        max_length=64,
        null=True,
        blank=True,
        unique=True,
        help_text="Refused callbacks alike (same minute, reason, stream and type) share one row.",
    )

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return f"{self.kind} {self.stream_id} ({self.outcome})"
