"""`GET /api/v1/events/?rooms=list` and `GET /api/v1/rooms/{id}/events/`: Server-Sent Events.

Async views, served by the ASGI process (`uvicorn liveroom.asgi:application`): a client costs a
coroutine and a queue, not a thread. Under a WSGI server they answer 503 (the pages then poll).
Checks come before the stream starts, so a bad request is a plain JSON error.
"""

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import connection
from django.http import JsonResponse, StreamingHttpResponse

from rooms.models import Room

from . import bus
from .hub import CLOSE, encode, hub


async def list_events(request):
    return await _guarded(request, _list)


async def room_events(request, pk):
    return await _guarded(request, _room, pk)


async def _guarded(request, view, *args):
    if request.method not in ("GET", "HEAD"):
        return _error(405, "method_not_allowed", f'Method "{request.method}" not allowed.')
    if not isinstance(request, ASGIRequest):
        response = _error(503, "unavailable", "Events are served by the ASGI process; poll instead.")
        response["Retry-After"] = "30"
        return response
    return await view(request, *args)


async def _list(request):
    unknown = sorted(set(request.GET) - {"rooms", "last_event_id"})
    if unknown:
        return _error(400, "invalid", f"Unknown query parameter: {', '.join(unknown)}.")
    if request.GET.get("rooms") != "list":
        return _error(400, "invalid", 'rooms: use "list" (the public list\'s events).')
    return await _stream(request, "list")


async def _room(request, pk):
    unknown = sorted(set(request.GET) - {"last_event_id"})
    if unknown:
        return _error(400, "invalid", f"Unknown query parameter: {', '.join(unknown)}.")
    user = None
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        user = await request.auser()
        await sync_to_async(connection.close)()  # the session's: this request's thread keeps none
    token = request.headers.get("Authorization", "")
    if not await sync_to_async(_visible, thread_sensitive=False)(pk, user, token):
        return _error(404, "not_found", "No room with this id.")
    return await _stream(request, f"room:{pk}")


def _visible(pk, user, authorization) -> bool:
    """Whether the caller (the app's `Authorization: Token …`, else the web session's user) may
    see the room. Runs in a pooled thread and closes its database connection: a stream lasts
    for hours and must not hold one."""
    from django.contrib.auth.models import AnonymousUser
    from rest_framework.authtoken.models import Token

    try:
        scheme, _, key = authorization.partition(" ")
        if scheme == "Token" and key:
            found = Token.objects.select_related("user").filter(key=key, user__is_active=True).first()
            user = found.user if found else user
        return Room.objects.filter(Room.visible_to(user or AnonymousUser()), pk=pk).exists()
    finally:
        connection.close()


async def _stream(request, channel):
    last_id = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id", "")
    if last_id and not bus.valid_id(last_id):
        return _error(400, "invalid", "Last-Event-ID: not an id this server sent.")
    client = hub.subscribe(channel)  # before reading what was missed, so nothing falls in between
    missed = await sync_to_async(bus.since)(channel, last_id) if last_id else []
    response = StreamingHttpResponse(_chunks(client, missed), content_type="text/event-stream")
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    response["Access-Control-Allow-Origin"] = "*"
    return response


async def _chunks(client, missed):
    try:
        yield f"retry: {settings.EVENTS_RETRY_MS}\n\n".encode()
        after = ""
        if missed is None:
            yield encode("reset", '{"detail":"Some events are no longer kept: fetch again."}')
        for event in missed or ():
            yield encode(event.kind, event.data, event.id)
            after = event.id
        while True:
            event_id, chunk = await client.queue.get()
            if chunk == CLOSE:
                return
            if event_id and after and not bus.later(event_id, after):
                continue  # replayed above already
            yield chunk
    finally:
        hub.unsubscribe(client)


def _error(status, code, detail):
    response = JsonResponse({"code": code, "detail": detail}, status=status)
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "no-store"
    return response
