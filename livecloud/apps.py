from django.apps import AppConfig


class LivecloudConfig(AppConfig):
    name = "livecloud"

    def ready(self):
        from . import checks  # noqa: F401 - registers the deploy checks
