from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "moderation"

    def ready(self):
        from rooms import hooks

        from . import services

        # rooms asks, moderation answers (rooms sits below and never imports moderation).
        hooks.answer_streamer_ban(services.active_streamer_ban)
        hooks.on_online_streams("reforbidden", services.reenforce_online_bans)
