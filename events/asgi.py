"""The event streams as a plain ASGI application, in front of Django's (see `liveroom.asgi`).

`GET /api/v1/events/?rooms=list` and `GET /api/v1/rooms/{id}/events/` skip Django's middleware
and request objects: a stream lasts for hours, and Django would hold a thread (and, through its
sync middleware, a database connection) for each one. Here a client costs a coroutine and a
queue. The one check that needs the database (may the caller see this room?) runs in a pooled
thread that closes its connection. Checks come before the stream starts, so a bad request is a
plain JSON error in the project's shape.
"""

import asyncio
import gc
import json
import re
import time
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from django.conf import settings

from . import bus
from .hub import CLOSE, encode, hub

LIST_PATH = "/api/v1/events/"
ROOM_PATH = re.compile(r"^/api/v1/rooms/([0-9]{1,18})/events/$")
COMMON_HEADERS = [
    (b"cache-control", b"no-store"),
    (b"access-control-allow-origin", b"*"),
]


# Collect the youngest generation every 50,000 allocations, not 700 (see `lifespan`).
GC_THRESHOLDS = (50_000, 100, 10)


def handles(scope) -> bool:
    return scope["type"] == "http" and (scope["path"] == LIST_PATH or ROOM_PATH.match(scope["path"]) is not None)


async def app(scope, receive, send):
    error = await _check(scope)
    if error is not None:
        return await _send_error(send, *error)
    channel, last_id = scope["liveroom.channel"], scope["liveroom.last_id"]
    client = hub.subscribe(channel)  # before reading what was missed, so nothing falls in between
    try:
        missed = await sync_to_async(bus.since, thread_sensitive=False)(channel, last_id) if last_id else []
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/event-stream; charset=utf-8"),
                    (b"x-accel-buffering", b"no"),  # nginx: pass each event on at once
                    *COMMON_HEADERS,
                ],
            }
        )
        if scope["method"] == "HEAD":
            return await send({"type": "http.response.body", "body": b""})
        await _stream(send, receive, client, missed)
    finally:
        hub.unsubscribe(client)


async def _stream(send, receive, client, missed):
    async def body(chunk):
        await send({"type": "http.response.body", "body": chunk, "more_body": True})

    # One waiting point per stream, its queue: the disconnect watcher closes it. (Waiting on the
    # queue and the disconnect together would cost two futures and a task per event and client.)
    watcher = asyncio.ensure_future(_disconnect(receive, client))
    try:
        await body(f"retry: {settings.EVENTS_RETRY_MS}\n\n".encode())
        after = ""
        if missed is None:
            await body(encode("reset", '{"detail":"Some events are no longer kept: fetch again."}'))
        for event in missed or ():
            await body(encode(event.kind, event.data, event.id))
            after = event.id
        while True:
            event_id, chunk = await client.queue.get()
            if chunk == CLOSE:
                break
            if event_id and after and not bus.later(event_id, after):
                continue  # replayed above already
            await body(chunk)
        if not watcher.done():
            await send({"type": "http.response.body", "body": b""})
    except OSError:
        pass  # the client went away mid-write
    finally:
        watcher.cancel()


async def _disconnect(receive, client):
    while (await receive())["type"] != "http.disconnect":
        pass
    client.close()


async def lifespan(receive, send):
    """The ASGI process's startup (uvicorn's lifespan protocol): tune the garbage collector.

    A process holding thousands of streams holds some 60 long-lived objects per stream, and each
    event leaves a fresh waiter in every stream. With Python's default thresholds those waiters
    reached the oldest generation within seconds, and a full collection over all the streams'
    objects (hundreds of milliseconds with 10,000 streams) ran every few events, holding them up.
    The objects of startup are frozen (never scanned again) and the youngest generation is
    collected less often; cyclic garbage is still collected.
    """
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            gc.freeze()
            gc.set_threshold(*GC_THRESHOLDS)
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _check(scope):
    """None when the request may stream (the channel and last id set on `scope`), else
    (status, code, detail, extra headers)."""
    if scope["method"] not in ("GET", "HEAD"):
        return 405, "method_not_allowed", f'Method "{scope["method"]}" not allowed.', [(b"allow", b"GET, HEAD")]
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
    room = ROOM_PATH.match(scope["path"])
    allowed = {"last_event_id"} if room else {"rooms", "last_event_id"}
    unknown = sorted(set(query) - allowed)
    if unknown:
        return 400, "invalid", f"Unknown query parameter: {', '.join(unknown)}.", []
    if not room and query.get("rooms", [""])[-1] != "list":
        return 400, "invalid", 'rooms: use "list" (the public list\'s events).', []
    last_id = headers.get("last-event-id") or query.get("last_event_id", [""])[-1]
    if last_id and not bus.valid_id(last_id):
        return 400, "invalid", "Last-Event-ID: not an id this server sent.", []
    if room:
        session = SimpleCookie(headers.get("cookie", "")).get(settings.SESSION_COOKIE_NAME)
        session_key, authorization = session.value if session else "", headers.get("authorization", "")
        pk = int(room.group(1))
        if not (session_key or authorization) and _PUBLIC.get(pk, 0) > time.monotonic():
            pass  # a room anyone may see, checked a moment ago
        elif await sync_to_async(_visible, thread_sensitive=False)(pk, session_key, authorization):
            if not (session_key or authorization):
                _remember_public(pk)
        else:
            return 404, "not_found", "No room with this id.", []
    scope["liveroom.channel"] = f"room:{room.group(1)}" if room else "list"
    scope["liveroom.last_id"] = last_id
    return None


# Rooms an anonymous caller may see (live), until when: a crowd arriving at one room costs one
# query. The price: for PUBLIC_FOR seconds after a room ends, a stream of it may still open (it
# then carries heartbeats only; the page has seen the end through the room's own answers).
PUBLIC_FOR = 2.0
_PUBLIC = {}


def _remember_public(pk):
    if len(_PUBLIC) > 100_000:
        _PUBLIC.clear()
    _PUBLIC[pk] = time.monotonic() + PUBLIC_FOR


def _visible(pk, session_key, authorization) -> bool:
    """Whether the caller (the app's `Authorization: Token …`, else the web session's user) may
    see the room (`Room.objects.visible_to`). Closes its database connection: the thread is pooled."""
    from importlib import import_module
    from types import SimpleNamespace

    from django.contrib.auth import get_user
    from django.contrib.auth.models import AnonymousUser
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from rooms.models import Room

    try:
        user = AnonymousUser()
        scheme, _, key = authorization.partition(" ")
        if scheme == "Token" and key:
            found = Token.objects.select_related("user").filter(key=key, user__is_active=True).first()
            user = found.user if found else user
        elif session_key:
            store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
            user = get_user(SimpleNamespace(session=store))
        return Room.objects.visible_to(user).filter(pk=pk).exists()
    finally:
        connection.close()


async def _send_error(send, status, code, detail, extra_headers):
    body = json.dumps({"code": code, "detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), *COMMON_HEADERS, *extra_headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
