import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liveroom.settings")

django_application = get_wsgi_application()

from api.front import CachedAnswerFront  # noqa: E402 (it needs the apps loaded)

# Cached public answers go out from the front, everything else through Django (api.front).
application = CachedAnswerFront(django_application)

# What start-up built (modules, settings, URL patterns, the app) lives as long as the process:
# out of the collector's sight, a full collection scans what requests left instead (README,
# "The production front": a 90-110 ms pause every few thousand requests without it, 3 ms with it).
gc.freeze()
