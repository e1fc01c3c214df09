from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Real-time events"

    def ready(self):
        from . import publish  # noqa: F401 - connects its room_status_changed receiver
