"""The event stream URLs under a WSGI server (gunicorn, granian, the test live server).

The streams themselves are served by the ASGI process (`events.asgi`, in front of Django in
`liveroom.asgi`), where a client costs a coroutine, not a thread. Here the same URLs answer 503
with `Retry-After`, and the pages poll instead.
"""

from django.http import JsonResponse


def unavailable(request, pk=None):
    response = JsonResponse(
        {"code": "unavailable", "detail": "Events are served by the ASGI process; poll instead."}, status=503
    )
    response["Retry-After"] = "30"
    response["Cache-Control"] = "no-store"
    response["Access-Control-Allow-Origin"] = "*"
    return response
