"""Time one stream health check over many live streams against an in-process Tencent simulator.

`measure_health_check(rooms=10_000)` (or `python manage.py check_stream_health --bench`) creates
that many owners and live rooms with their streams online (`bench.sweep.online_rooms`),
runs one `health.check()` through the real client over HTTP, and deletes everything it created.
"""

import time

from bench.sweep import online_rooms

from . import health


def measure_health_check(rooms=10_000) -> dict:
    """{"streams", "rooms", "degraded", "seconds", "calls"} for one check."""
    with online_rooms(rooms) as server:
        started = time.perf_counter()
        result = health.check()
        seconds = time.perf_counter() - started
        calls = sum(call["action"] == "DescribeLiveStreamPushInfoList" for call in server.simulator.calls)
    return {**result, "seconds": round(seconds, 3), "calls": calls}
