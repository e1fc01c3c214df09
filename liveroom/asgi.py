"""The ASGI entry point: the real-time event streams (`uvicorn liveroom.asgi:application`).

It serves the whole project, so one process can run everything in development; in production
the REST API stays on the WSGI server and only the event paths are routed here.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liveroom.settings")
application = get_asgi_application()
