from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Operations"

    def ready(self):
        from rooms.signals import sweep_finished

        from . import health

        sweep_finished.connect(health.after_sweep, dispatch_uid="stream_health_with_the_sweep")
