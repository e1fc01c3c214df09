"""Everything that speaks Tencent's wire formats.

`get_client()` returns the configured cloud client (settings.LIVE_CLOUD: `api3` or `legacy`);
both offer `online_streams()`, `stream_state(stream_id)`, `forbid(stream_id, resume_at=, reason=)`,
`resume(stream_id)`, `drop(stream_id)` and `push_info()` (stream health, `push_info.PushInfo`),
and raise `CloudError` on every failure.
"""

from .errors import CloudError


def get_client():
    from django.conf import settings

    if settings.LIVE_CLOUD == "legacy":
        from .legacy import LegacyClient

        return LegacyClient.from_settings(settings)
    from .api3 import Api3Client

    return Api3Client.from_settings(settings)


__all__ = ["CloudError", "get_client"]
