"""Stream health as the cloud reports it (API 3.0 DescribeLiveStreamPushInfoList, legacy Get_LivePushStat)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class PushInfo:
    """One online stream: what the cloud receives, and what the encoder declared (None: not known)."""

    stream_id: str
    fps: float | None
    kbps: int | None  # video bitrate, kbit/s
    resolution: str = ""  # "1280x720", or "" when not reported
    declared_fps: float | None = None
    declared_kbps: int | None = None


def positive(value, kind=float):
    """A reported figure, or None for a missing or zero one (Tencent sends 0 for "not declared")."""
    try:
        number = kind(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def resolution(text) -> str:
    """Tencent writes `1280*720`; we show `1280x720`."""
    parts = str(text or "").replace("*", "x").split("x")
    return "x".join(parts) if len(parts) == 2 and all(p.isdigit() and int(p) > 0 for p in parts) else ""
