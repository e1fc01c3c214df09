"""The ASGI entry point (`uvicorn liveroom.asgi:application`): the real-time event streams
(`events.asgi`), and the rest of the project through Django.

It serves the whole project, so one process can run everything in development; in production
the REST API stays on the WSGI server and only the event paths are routed here.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liveroom.settings")
django_application = get_asgi_application()

from events import asgi as events  # noqa: E402  (needs the settings configured above)


async def application(scope, receive, send):
    if events.handles(scope):
        return await events.app(scope, receive, send)
    if scope["type"] == "lifespan":  # Django has no use for it; the event streams do
        return await events.lifespan(receive, send)
    return await django_application(scope, receive, send)
