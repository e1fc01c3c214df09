"""Where events travel between processes: Redis, or this process when there is none.

An event belongs to a *channel*: `list` (the public list) or `room:{id}`. Events that clients
may have missed while reconnecting (a room going live or ending, a status change) are *kept*:
appended to the channel's Redis stream (its last `EVENTS_KEEP` entries, for resuming with
`Last-Event-ID`) and published on one pub/sub channel, in one round trip; the stream's entry id
is the event id. Counts are not kept: they are state, and the next one replaces the last.

Every process that serves event streams holds one subscription (`Hub`), whatever its number of
clients. Without Redis (the embedded mode) the bus is this process: events published here
reach the streams served here, which is all there is with one web process.
"""

import json
import threading
from dataclasses import dataclass

from django.conf import settings

from infra.redis import get_redis, key, pubsub_key, scripts

# KEYS: the channel's stream, the pub/sub channel.  ARGV: channel, kind, data (JSON), keep.
_KEEP = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], '*', 'kind', ARGV[2], 'data', ARGV[3])
redis.call('EXPIRE', KEYS[1], 86400)
redis.call('PUBLISH', KEYS[2], cjson.encode({ARGV[1], id, ARGV[2], ARGV[3]}))
return id
"""
_scripts = scripts(keep=_KEEP)


@dataclass(frozen=True)
class Event:
    channel: str
    kind: str
    data: str  # JSON
    id: str = ""  # kept events only

    @classmethod
    def decode(cls, payload):
        channel, event_id, kind, data = json.loads(payload)
        return cls(channel, kind, data, event_id)


COUNTS = "counts.changed"  # the kind of the counter path's messages (never sent to clients as is)


def uses_redis() -> bool:
    return bool(settings.REDIS_URL)


def pubsub_channel() -> str:
    return pubsub_key("events", "bus")


def counts_channel() -> str:
    """Where the counter path publishes every change of a room's counts (`rooms.counters`)."""
    from rooms.counters import changes_channel

    return changes_channel()


def stream_key(channel) -> str:
    return key("events", "stream", channel)


def keep(channel, kind, data) -> str:
    """Publish an event clients must not miss; returns its id."""
    body = json.dumps(data, separators=(",", ":"))
    if uses_redis():
        event_id = _scripts().keep(
            keys=[stream_key(channel), pubsub_channel()], args=[channel, kind, body, settings.EVENTS_KEEP]
        )
        return event_id.decode() if isinstance(event_id, bytes) else event_id
    return local.keep(channel, kind, body)


def send(channel, kind, data) -> None:
    """Publish a passing event (counts): not kept, not replayed."""
    body = json.dumps(data, separators=(",", ":"))
    if uses_redis():
        get_redis().publish(pubsub_channel(), json.dumps([channel, "", kind, body]))
    else:
        local.deliver(Event(channel, kind, body))


def since(channel, last_id):
    """The kept events of `channel` after `last_id`, or None when that event is no longer kept
    (some after it may be gone too: the client should refetch, a `reset`)."""
    if uses_redis():
        found = get_redis().xrange(stream_key(channel), min=last_id)
        events = [Event(channel, f[b"kind"].decode(), f[b"data"].decode(), i.decode()) for i, f in found]
    else:
        events = local.after(channel, last_id)
    return _after(events, last_id)


def valid_id(value) -> bool:
    head, _, tail = value.partition("-")
    return head.isdigit() and tail.isdigit() and len(value) <= 41


def _after(events, last_id):
    """`events` (from `last_id` on) without the one the client has; None when it is missing."""
    if not events:
        return []  # nothing kept after it
    if events[0].id != last_id:
        return None
    return events[1:]


def later(event_id, other) -> bool:
    return _parts(event_id) > _parts(other)


def _parts(event_id):
    head, _, tail = event_id.partition("-")
    return int(head), int(tail or 0)


class LocalBus:
    """The bus of the embedded mode: kept events in memory, delivery to this process's hub."""

    def __init__(self):
        self._lock = threading.Lock()
        self._kept = {}
        self._sequence = 0
        self.listeners = []

    def keep(self, channel, kind, body):
        with self._lock:
            self._sequence += 1
            event = Event(channel, kind, body, f"{self._sequence}-0")
            kept = self._kept.setdefault(channel, [])
            kept.append(event)
            del kept[: -settings.EVENTS_KEEP]
        self.deliver(event)
        return event.id

    def after(self, channel, last_id):
        """The kept events from `last_id` on."""
        with self._lock:
            kept = list(self._kept.get(channel, []))
        last = _parts(last_id)
        return [event for event in kept if _parts(event.id) >= last]

    def deliver(self, event):
        for listener in list(self.listeners):
            listener(event)


local = LocalBus()
