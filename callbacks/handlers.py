"""Apply an accepted Tencent callback: log it, drop duplicates, dispatch by the event's kind.

The event comes typed from `livecloud.callback_events` (this module never reads the body). Each handler calls one room service and returns whether it changed anything, or raises
`Ignored` for an event it will not apply. The services guard against stale events (an older
push `sequence`, an older `event_time`).
"""

import hashlib
import logging
from dataclasses import asdict

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from livecloud import callback_events as tencent
from livecloud.callback_events import Kind
from moderation import findings
from moderation.models import Flag
from monitoring import health
from rooms import services
from rooms.models import Room, RoomEvent

from .models import CallbackEvent

logger = logging.getLogger(__name__)
Outcome = CallbackEvent.Outcome
SOURCE = RoomEvent.Source.CALLBACK
REJECTED_BODY_LIMIT = 4096


class Ignored(Exception):
    """Raised by a handler for an event it will not apply; logged as ignored, with the reason."""


def on_push(room, event: tencent.Push):
    if event.sequence and _ended(event):
        return False  # this push session's stream-end arrived first: the stream is already over
    return services.mark_live(room, source=SOURCE, sequence=event.sequence, event_time=event.event_time)


def on_stream_end(room, event: tencent.StreamEnd):
    if not event.sequence and room.push_sequence:
        # A body without sequence may be a forged one under a captured sign: it cannot end a push we know.
        raise Ignored("stream end without sequence; the room's push sequence is known")
    return services.mark_interrupted(room, source=SOURCE, sequence=event.sequence, event_time=event.event_time)


def on_recording(room, event: tencent.Recording):
    services.add_recording(
        room,
        file_id=event.file_id,
        video_url=event.video_url,
        format=event.format,
        started_at=event.started_at,
        ended_at=event.ended_at,
        duration=event.duration,
        size=event.size,
    )
    return True


def on_screenshot(room, event: tencent.Screenshot):
    return bool(event.url) and services.set_snapshot(room, event.url)


def on_image_moderation(room, event: tencent.ImageModeration):
    findings.record_flag(
        room,
        kind=Flag.Kind.IMAGE,
        image_url=event.image_url,
        captured_at=event.event_time,
        **asdict(event.verdict),
    )
    return True


def on_audio_moderation(room, event: tencent.AudioModeration):
    findings.record_flag(
        room, kind=Flag.Kind.AUDIO, text=event.text, captured_at=event.event_time, **asdict(event.verdict)
    )
    return True


def on_push_exception(room, event: tencent.PushException):
    return health.record_push_exception(
        room, exception_type=event.exception_type, detail=event.detail, count=event.count, at=event.at
    )


def _ended(event):
    ends = CallbackEvent.objects.filter(stream_id=event.stream_id, kind=Kind.STREAM_END, sequence=event.sequence)
    return ends.exclude(outcome__in=[Outcome.REJECTED, Outcome.DUPLICATE]).exists()


HANDLERS = {
    Kind.PUSH: on_push,
    Kind.STREAM_END: on_stream_end,
    Kind.RECORDING: on_recording,
    Kind.SCREENSHOT: on_screenshot,
    Kind.IMAGE_MODERATION: on_image_moderation,
    Kind.AUDIO_MODERATION: on_audio_moderation,
    Kind.PUSH_EXCEPTION: on_push_exception,
}
# How each outcome is counted in the metrics: (outcome, reason).
OUTCOME_LABELS = {
    Outcome.APPLIED: ("applied", ""),
    Outcome.DUPLICATE: ("duplicate", ""),
    Outcome.NO_CHANGE: ("ignored", "no_change"),
    Outcome.UNKNOWN_STREAM: ("ignored", "unknown_stream"),
    Outcome.IGNORED: ("ignored", "unhandled_event_type"),
}


def dispatch(event: tencent.Event, raw: bytes) -> str:
    """Log and apply one verified callback; its outcome. Redeliveries are logged as duplicates."""
    fields = {
        "stream_id": event.stream_id,
        "kind": event.code,
        "sequence": event.sequence,
        "event_time": event.event_time,
        "body": raw.decode("utf-8", errors="replace"),
    }
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = CallbackEvent.objects.create(**fields, outcome=Outcome.IGNORED, dedupe_key=event.dedupe_key)
        except IntegrityError:
            CallbackEvent.objects.create(**fields, outcome=Outcome.DUPLICATE)
            return Outcome.DUPLICATE
        try:
            record.outcome = _apply(event)
        except Ignored as exc:
            logger.info("callback %s for %s ignored: %s", event.code, event.stream_id, exc)
            record.outcome, record.detail = Outcome.IGNORED, str(exc)
        record.save(update_fields=["outcome", "detail"])
    return record.outcome


def _apply(event):
    handler = HANDLERS.get(event.code)
    if handler is None:
        return Outcome.IGNORED
    room = Room.objects.filter(stream_id=event.stream_id).first()
    if room is None:
        return Outcome.UNKNOWN_STREAM
    return Outcome.APPLIED if handler(room, event) else Outcome.NO_CHANGE


def log_rejected(raw: bytes, payload, reason, *, now=None):
    """Log a refused callback, sampled so that no flood grows the log without bound.

    Alike refusals (same minute, reason, stream and event type) are counted on one row (`repeats`,
    the first body kept as the sample). Past CALLBACK_REFUSED_PER_MINUTE rows in a minute, the rest
    of the minute is counted on one more row: at most that many + 1 rows a minute, whatever comes.
    """
    stream_id, code = tencent.named(payload)
    fields = {
        "stream_id": stream_id[:128] if isinstance(stream_id, str) else "",
        "kind": code if type(code) is int and 0 <= code < 2**31 else None,
        "body": raw[:REJECTED_BODY_LIMIT].decode("utf-8", errors="replace"),
        "detail": reason[:255],
    }
    minute = (now or timezone.now()).replace(second=0, microsecond=0)
    key = _repeat_key(minute, reason, fields["stream_id"], fields["kind"])
    if _repeated(key):
        return
    sampled = CallbackEvent.objects.filter(outcome=Outcome.REJECTED, received_at__gte=minute, repeat_key__isnull=False)
    if sampled.count() >= settings.CALLBACK_REFUSED_PER_MINUTE:
        key = _repeat_key(minute, "overflow")
        if _repeated(key):
            return
        detail = f"More refused callbacks this minute, not logged one by one; the first: {reason}"
        fields.update(stream_id="", kind=None, detail=detail[:255])
    try:
        with transaction.atomic():
            CallbackEvent.objects.create(**fields, outcome=Outcome.REJECTED, repeat_key=key)
    except IntegrityError:  # an alike refusal, logged at the same moment
        _repeated(key)


def _repeat_key(minute, *parts):
    return hashlib.sha256(repr((minute.isoformat(), *parts)).encode()).hexdigest()


def _repeated(key) -> bool:
    return bool(CallbackEvent.objects.filter(repeat_key=key).update(repeats=F("repeats") + 1))
