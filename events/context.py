from django.conf import settings


def events(request):
    """`events_url`: the origin the pages open their event streams on ("" = their own)."""
    return {"events_url": settings.EVENTS_URL.rstrip("/")}
