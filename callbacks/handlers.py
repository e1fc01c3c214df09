"""Apply an accepted Tencent callback: log it, drop duplicates, dispatch by event type.

Each handler calls one room service and returns whether it changed anything, or raises
`Ignored` for an event it will not apply. The services guard against stale events (an older
push `sequence`, an older `event_time`).
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from moderation import findings
from moderation.models import Flag
from monitoring import health
from rooms import services
from rooms.models import Room, RoomEvent

from .models import CallbackEvent

logger = logging.getLogger(__name__)
Outcome = CallbackEvent.Outcome
IMAGE_MODERATION, AUDIO_MODERATION, PUSH_EXCEPTION = 317, 315, 321
SOURCE = RoomEvent.Source.CALLBACK
REJECTED_BODY_LIMIT = 4096
TIME_FIELDS = ("event_time", "create_time", "start_time", "end_time", "screenshotTime", "sendTime")


@dataclass
class Event:
    event_type: int
    stream_id: str
    sequence: str
    event_time: datetime | None
    payload: dict

    @classmethod
    def from_payload(cls, payload):
        event_type = payload["event_type"]
        time_field = {100: "end_time", 200: "create_time", IMAGE_MODERATION: "screenshotTime"}.get(
            event_type, "event_time"
        )
        moment = payload.get(time_field)
        if event_type == IMAGE_MODERATION and (_count(moment) or 0) > 10**11:
            moment = _count(moment) // 1000  # in milliseconds
        return cls(event_type, payload["stream_id"], str(payload.get("sequence") or ""), _time(moment), payload)

    def dedupe_key(self):
        """Same stream, event type and identity (sequence + event time; the file for recordings and
        screenshots; the screenshot time for image moderation; the report time for push exceptions)."""
        identity = {
            100: ("file_id", "video_url"),
            200: ("pic_url", "create_time"),
            IMAGE_MODERATION: ("screenshotTime",),
            AUDIO_MODERATION: ("event_time", "asr_text"),
            PUSH_EXCEPTION: ("sequence", "data_time"),
        }.get(self.event_type)
        parts = (
            [self.payload.get(name) for name in identity]
            if identity
            else [self.sequence, self.payload.get("event_time")]
        )
        return hashlib.sha256(repr((self.stream_id, self.event_type, *parts)).encode()).hexdigest()


class Ignored(Exception):
    """Raised by a handler for an event it will not apply; logged as ignored, with the reason."""


def event_times(payload):
    """`(field, Unix seconds)` of each time the body carries (image moderation's may be in ms)."""
    times = ((name, _count(payload.get(name))) for name in TIME_FIELDS)
    return [(name, _ms_to_s(name, value)) for name, value in times if value is not None]


def _ms_to_s(name, value):
    return value // 1000 if name in ("screenshotTime", "sendTime") and value > 10**11 else value


def on_push(room, event):
    if event.sequence and _ended(event):
        return False  # this push session's stream-end arrived first: the stream is already over
    return services.mark_live(room, source=SOURCE, sequence=event.sequence, event_time=event.event_time)


def on_stream_end(room, event):
    if not event.sequence and room.push_sequence:
        # A body without sequence may be a forged one under a captured sign: it cannot end a push we know.
        raise Ignored("stream end without sequence; the room's push sequence is known")
    return services.mark_interrupted(room, source=SOURCE, sequence=event.sequence, event_time=event.event_time)


def on_recording(room, event):
    p = event.payload
    services.add_recording(
        room,
        file_id=str(p.get("file_id") or ""),
        video_url=str(p.get("video_url") or ""),
        format=str(p.get("file_format") or ""),
        started_at=_time(p.get("start_time")),
        ended_at=_time(p.get("end_time")),
        duration=_count(p.get("duration")),
        size=_count(p.get("file_size")),
    )
    return True


def on_screenshot(room, event):
    url = event.payload.get("pic_full_url") or event.payload.get("pic_url")
    return bool(url) and services.set_snapshot(room, str(url))


def on_image_moderation(room, event):
    p = event.payload
    findings.record_flag(
        room,
        kind=Flag.Kind.IMAGE,
        image_url=_http_url(p.get("img")),
        captured_at=event.event_time,
        **_verdict(p),
    )
    return True


def on_audio_moderation(room, event):
    p = event.payload
    findings.record_flag(
        room,
        kind=Flag.Kind.AUDIO,
        text=str(p.get("asr_text") or "")[:5000],
        captured_at=event.event_time,
        **_verdict(p),
    )
    return True


def _verdict(p):
    """suggestion (Block / Review / Pass; none given: Pass for a Normal label, else Review, so a
    person looks), labels, and scores (one per type; a single number is one score)."""
    label = str(p.get("label") or "")[:64]
    suggestion = str(p.get("suggestion") or "").lower()
    if suggestion not in Flag.Suggestion.values:
        suggestion = Flag.Suggestion.PASS if label.lower() in ("", "normal") else Flag.Suggestion.REVIEW
    scores = [_count(s) for s in _as_list(p.get("score"))]
    scores = [min(s, 100) for s in scores if s is not None]
    return {
        "suggestion": suggestion,
        "label": label,
        "sub_label": str(p.get("subLabel") or p.get("sub_label") or "")[:64],
        "labels": [str(t)[:64] for t in _as_list(p.get("type"))][:20],
        "scores": scores[:20],
        "score": max(scores, default=None),
    }


def _as_list(value):
    if value in (None, ""):
        return []
    return value if isinstance(value, list) else [value]


def _http_url(value):
    url = str(value or "")
    return url if url.startswith(("http://", "https://")) and len(url) <= 1000 else ""


def on_push_exception(room, event):
    """Event 321: Tencent saw something wrong in the push (timestamps, frame gaps, codecs)."""
    abnormal = event.payload.get("abnormal_event")
    abnormal = abnormal if isinstance(abnormal, dict) else {}
    details = abnormal.get("detail")
    first = details[0] if isinstance(details, list) and details and isinstance(details[0], dict) else {}
    text = abnormal.get("type_desc_en") or first.get("desc") or abnormal.get("type_desc_cn") or ""
    return health.record_push_exception(
        room,
        exception_type=_count(abnormal.get("type")),
        detail=str(text),
        count=_count(abnormal.get("count")),
        at=_time((_count(event.payload.get("data_time")) or 0) // 1000 or None),
    )


def _ended(event):
    ends = CallbackEvent.objects.filter(stream_id=event.stream_id, event_type=0, sequence=event.sequence)
    return ends.exclude(outcome__in=[Outcome.REJECTED, Outcome.DUPLICATE]).exists()


HANDLERS = {
    1: on_push,
    0: on_stream_end,
    100: on_recording,
    200: on_screenshot,
    IMAGE_MODERATION: on_image_moderation,
    AUDIO_MODERATION: on_audio_moderation,
    PUSH_EXCEPTION: on_push_exception,
}
# How each outcome is counted in the metrics: (outcome, reason).
OUTCOME_LABELS = {
    Outcome.APPLIED: ("applied", ""),
    Outcome.DUPLICATE: ("duplicate", ""),
    Outcome.NO_CHANGE: ("ignored", "no_change"),
    Outcome.UNKNOWN_STREAM: ("ignored", "unknown_stream"),
    Outcome.IGNORED: ("ignored", "unhandled_event_type"),
}


def dispatch(payload, raw: bytes) -> str:
    """Log and apply one verified callback; its outcome. Redeliveries are logged as duplicates."""
    event = Event.from_payload(payload)
    fields = {
        "stream_id": event.stream_id,
        "event_type": event.event_type,
        "sequence": event.sequence,
        "event_time": event.event_time,
        "body": raw.decode("utf-8", errors="replace"),
    }
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = CallbackEvent.objects.create(**fields, outcome=Outcome.IGNORED, dedupe_key=event.dedupe_key())
        except IntegrityError:
            CallbackEvent.objects.create(**fields, outcome=Outcome.DUPLICATE)
            return Outcome.DUPLICATE
        try:
            record.outcome = _apply(event)
        except Ignored as exc:
            logger.info("callback %s for %s ignored: %s", event.event_type, event.stream_id, exc)
            record.outcome, record.detail = Outcome.IGNORED, str(exc)
        record.save(update_fields=["outcome", "detail"])
    return record.outcome


def _apply(event):
    handler = HANDLERS.get(event.event_type)
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
    payload = payload if isinstance(payload, dict) else {}
    stream_id, event_type = payload.get("stream_id"), payload.get("event_type")
    fields = {
        "stream_id": stream_id[:128] if isinstance(stream_id, str) else "",
        "event_type": event_type if type(event_type) is int and 0 <= event_type < 2**31 else None,
        "body": raw[:REJECTED_BODY_LIMIT].decode("utf-8", errors="replace"),
        "detail": reason[:255],
    }
    minute = (now or timezone.now()).replace(second=0, microsecond=0)
    key = _repeat_key(minute, reason, fields["stream_id"], fields["event_type"])
    if _repeated(key):
        return
    sampled = CallbackEvent.objects.filter(outcome=Outcome.REJECTED, received_at__gte=minute, repeat_key__isnull=False)
    if sampled.count() >= settings.CALLBACK_REFUSED_PER_MINUTE:
        key = _repeat_key(minute, "overflow")
        if _repeated(key):
            return
        detail = f"More refused callbacks this minute, not logged one by one; the first: {reason}"
        fields.update(stream_id="", event_type=None, detail=detail[:255])
    try:
        with transaction.atomic():
            CallbackEvent.objects.create(**fields, outcome=Outcome.REJECTED, repeat_key=key)
    except IntegrityError:  # an alike refusal, logged at the same moment
        _repeated(key)


def _repeat_key(minute, *parts):
    return hashlib.sha256(repr((minute.isoformat(), *parts)).encode()).hexdigest()


def _repeated(key) -> bool:
    return bool(CallbackEvent.objects.filter(repeat_key=key).update(repeats=F("repeats") + 1))


def _time(value):
    seconds = _count(value)
    try:
        return datetime.fromtimestamp(seconds, UTC) if seconds is not None else None
    except (OverflowError, ValueError, OSError):  # beyond the year 9999: not a time
        return None


def _count(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None
