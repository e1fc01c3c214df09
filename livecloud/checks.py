"""`manage.py check --deploy`: Tencent settings left at their development values."""

from django.conf import settings
from django.core.checks import Tags, Warning, register

LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")


@register(Tags.security, deploy=True)
def tencent_settings_for_production(app_configs, **kwargs):
    warnings = []
    for name in ("TENCENT_LIVE_PUSH_DOMAIN", "TENCENT_LIVE_PLAY_DOMAIN"):
        if getattr(settings, name).split(":")[0] in LOCAL_HOSTS:
            warnings.append(
                Warning(
                    f"{name} is {getattr(settings, name)}: stream URLs point at this machine.",
                    hint=f"Set {name} to your Tencent Cloud Live domain.",
                    id="livecloud.W001",
                )
            )
    if settings.TENCENT_LIVE_ENDPOINT:
        warnings.append(
            Warning(
                f"TENCENT_LIVE_ENDPOINT is {settings.TENCENT_LIVE_ENDPOINT}: cloud calls go there, not to Tencent.",
                hint="Leave TENCENT_LIVE_ENDPOINT unset in production (it is for the simulator).",
                id="livecloud.W002",
            )
        )
    return warnings
