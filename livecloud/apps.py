from django.apps import AppConfig


class LivecloudConfig(AppConfig):
    name = "livecloud"
