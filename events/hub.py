"""The event streams of one ASGI process: one subscription to the bus, fanned out to its clients.

Each client is a bounded queue of encoded chunks. An event is encoded once, and the same bytes
go to every client of its channel. Counts are coalesced per channel: the latest counts of each
room are sent at most once a second (at once when the channel sent none in the last second),
all rooms changed meanwhile in one chunk; a room's stream also gets `likes`, the likes since its
previous counts. A comment every EVENTS_HEARTBEAT seconds keeps idle connections open through
proxies. A client whose queue is full (it does not read) is dropped; its browser reconnects and
resumes from its last event id.
"""

import asyncio
import itertools
import json
import logging
import time
from collections import defaultdict

from django.conf import settings

from . import bus

log = logging.getLogger(__name__)
QUEUE_CHUNKS = 256
COUNTS_INTERVAL = 1.0
CLOSE = b""  # the last chunk: the server ends the stream


def encode(kind, data, event_id=""):
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {kind}\ndata: {data}\n\n".encode()


class Client:
    def __init__(self, channel, slot=0):
        self.channel = channel
        self.slot = slot  # which second of the heartbeat period its comment goes out in
        self.queue = asyncio.Queue(QUEUE_CHUNKS)
        self.dropped = False

    def put(self, chunk, event_id=""):
        if self.dropped:
            return
        try:
            self.queue.put_nowait((event_id, chunk))
        except asyncio.QueueFull:
            self.close()

    def close(self):
        """End the stream: its reader gets CLOSE next (the client went away, or stopped reading)."""
        if self.dropped:
            return
        self.dropped = True
        try:
            self.queue.put_nowait(("", CLOSE))
        except asyncio.QueueFull:
            self.queue = _closed_queue()


def _closed_queue():
    queue = asyncio.Queue(1)
    queue.put_nowait(("", CLOSE))
    return queue


class _Coalesced:
    """The pending counts of one channel and when it may send next."""

    def __init__(self):
        self.pending = {}  # room id -> (viewer_count, like_count)
        self.sent_likes = {}  # room id -> like_count last sent
        self.next_at = 0.0
        self.scheduled = False


class Hub:
    def __init__(self):
        self.clients = defaultdict(set)
        self._coalesced = defaultdict(_Coalesced)
        self._loop = None
        self._tasks = []
        self._numbers = itertools.count()
        self._slots = defaultdict(set)  # second of the heartbeat period -> its clients

    def reset(self):
        """Forget every client and the loop (a test's server is gone; the next one starts anew)."""
        for task in self._tasks:
            task.cancel()
        if self._from_thread in bus.local.listeners:
            bus.local.listeners.remove(self._from_thread)
        self.__init__()

    # --- clients -----------------------------------------------------------------------------

    def subscribe(self, channel) -> Client:
        self._start()
        client = Client(channel, next(self._numbers) % settings.EVENTS_HEARTBEAT)
        self.clients[channel].add(client)
        self._slots[client.slot].add(client)
        return client

    def unsubscribe(self, client):
        self._slots[client.slot].discard(client)
        clients = self.clients.get(client.channel)
        if clients is not None:
            clients.discard(client)
            if not clients:
                del self.clients[client.channel]

    @property
    def client_count(self):
        return sum(len(clients) for clients in self.clients.values())

    def _send(self, channel, chunk, event_id=""):
        for client in list(self.clients.get(channel, ())):
            client.put(chunk, event_id)

    # --- events from the bus -------------------------------------------------------------------

    def deliver(self, event: bus.Event):
        """Called in the hub's loop for every event on the bus."""
        if event.kind == bus.COUNTS:
            self._counts(json.loads(event.data))
            return
        chunk = encode(event.kind, event.data, event.id)
        self._send(event.channel, chunk, event.id)
        if event.kind == "status" and json.loads(event.data)["status"] in ("closed", "banned"):
            self._send(event.channel, CLOSE)

    def _counts(self, counts):
        room_id, viewers, likes = int(counts["id"]), int(counts["viewer_count"]), int(counts["like_count"])
        for channel in ("list", f"room:{room_id}"):
            if channel not in self.clients:
                continue
            state = self._coalesced[channel]
            state.pending[room_id] = (viewers, likes)
            if not state.scheduled:
                state.scheduled = True
                delay = max(0.0, state.next_at - time.monotonic())
                self._loop.call_later(delay, self._flush_counts, channel)

    def _flush_counts(self, channel):
        state = self._coalesced[channel]
        state.scheduled, pending, state.pending = False, state.pending, {}
        state.next_at = time.monotonic() + COUNTS_INTERVAL
        if channel not in self.clients:
            self._coalesced.pop(channel, None)
            return
        parts = []
        for room_id, (viewers, likes) in pending.items():
            data = {"id": room_id, "viewer_count": viewers, "like_count": likes}
            if channel == "list":
                parts.append(encode("room.counts", json.dumps(data, separators=(",", ":"))))
                continue
            parts.append(encode("counts", json.dumps(data, separators=(",", ":"))))
            before = state.sent_likes.get(room_id)
            state.sent_likes[room_id] = likes
            if before is not None and likes > before:
                parts.append(encode("likes", json.dumps({"id": room_id, "likes": likes - before})))
        self._send(channel, b"".join(parts))

    # --- running -------------------------------------------------------------------------------

    def _start(self):
        if self._loop is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._tasks.append(self._loop.create_task(self._heartbeats()))
        if bus.uses_redis():
            self._tasks.append(self._loop.create_task(self._listen()))
        else:
            bus.local.listeners.append(self._from_thread)

    def _from_thread(self, event):
        """The embedded bus calls this from the thread that published (a sync view)."""
        self._loop.call_soon_threadsafe(self.deliver, event)

    async def _heartbeats(self):
        """Each client's comment every EVENTS_HEARTBEAT seconds, a share of the clients each
        second: 10,000 writes at once would hold up an event arriving meanwhile."""
        chunk = b": keep-alive\n\n"
        for second in itertools.count(1):
            await asyncio.sleep(1)
            period = settings.EVENTS_HEARTBEAT
            for slot, clients in list(self._slots.items()):
                if slot % period == second % period:
                    for client in list(clients):
                        client.put(chunk)

    async def _listen(self):
        """The one subscription of this process; reconnects by itself when Redis goes away."""
        from redis import asyncio as aioredis

        while True:
            try:
                client = aioredis.Redis.from_url(settings.REDIS_URL, health_check_interval=30)
                async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(bus.pubsub_channel(), bus.counts_channel())
                    async for message in pubsub.listen():
                        if message["channel"].decode() == bus.counts_channel():
                            self.deliver(bus.Event("", bus.COUNTS, message["data"].decode()))
                        else:
                            self.deliver(bus.Event.decode(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - Redis went away: events resume when it is back
                log.warning("event bus subscription lost; retrying in 1 s", exc_info=True)
                await asyncio.sleep(1)


hub = Hub()
