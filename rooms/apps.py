from django.apps import AppConfig


class RoomsConfig(AppConfig):
    name = "rooms"

    def ready(self):
        from . import counters, listcache  # noqa: F401 - connect their room_status_changed receivers
