"""SPEC §16 next to §12: what the request metrics cost per request, in CPU microseconds, and
one stream health check over 10,000 live streams.

Two measurements in this process, in multiprocess mode (PROMETHEUS_MULTIPROC_DIR, as under
gunicorn), by CPU time so that other load on the machine does not count:
- the middleware alone: a request through `RequestMetricsMiddleware` around a view that does
  nothing, minus the same request without it;
- the whole stack: the do-nothing DRF endpoint through Django's handler with metrics on, then
  off (METRICS_ENABLED), alternating rounds, the median of each.

Run by `make bench` (after the wrk cases) or alone: `.venv/bin/python bench/metrics_cost.py`
(needs a database URL only for settings; nothing is queried).
"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CALLS = 20_000
ROUNDS = 5


def cpu_per_call(function, calls=CALLS):
    started = time.process_time()
    for _ in range(calls):
        function()
    return (time.process_time() - started) / calls * 1e6


def measure() -> dict:
    from django.test import override_settings

    with override_settings(ALLOWED_HOSTS=["testserver"]):
        return _measure()


def _measure() -> dict:
    from django.http import HttpResponse
    from django.test import RequestFactory, override_settings
    from django.test.client import ClientHandler
    from django.urls import resolve

    from monitoring.middleware import RequestMetricsMiddleware

    request = RequestFactory().get("/api/v1/bench/noop/")
    request.resolver_match = resolve("/api/v1/bench/noop/")
    response = HttpResponse(b"{}")

    def view(_request):
        return response

    with override_settings(METRICS_ENABLED=True):
        wrapped = RequestMetricsMiddleware(view)
    bare_us = [cpu_per_call(lambda: view(request)) for _ in range(ROUNDS)]
    wrapped_us = [cpu_per_call(lambda: wrapped(request)) for _ in range(ROUNDS)]

    environ = RequestFactory().get("/api/v1/bench/noop/").environ
    handlers = {}
    for enabled in (True, False):
        with override_settings(METRICS_ENABLED=enabled):
            handlers[enabled] = ClientHandler(enforce_csrf_checks=False)
            handlers[enabled](dict(environ))  # loads the middleware under this setting
    full = {True: [], False: []}
    for _ in range(ROUNDS):
        for enabled, handler in handlers.items():
            full[enabled].append(cpu_per_call(lambda h=handler: h(dict(environ)), calls=CALLS // 10))
    on, off = statistics.median(full[True]), statistics.median(full[False])
    return {
        "middleware_us": statistics.median(wrapped_us) - statistics.median(bare_us),
        "request_on_us": on,
        "request_off_us": off,
        "request_cost_us": on - off,
        "multiprocess": bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR")),
    }


def measure_health_check(rooms=10_000) -> dict:
    from monitoring.health_bench import measure_health_check as measure

    return measure(rooms=rooms)


def render(result, health=None) -> str:
    lines = []
    if health:
        lines = [
            "",
            "## Stream health check (SPEC §16)",
            "",
            f"One check over {health['rooms']:,} live streams against the simulator:"
            f" {health['seconds'] * 1000:.0f} ms, {health['calls']} DescribeLiveStreamPushInfoList call(s).",
        ]
    return "\n".join(
        [
            *lines,
            "",
            "## Cost of the metrics (SPEC §16)",
            "",
            "CPU time per request in this process, multiprocess mode"
            f" ({'on' if result['multiprocess'] else 'off'}), median of {ROUNDS} rounds:",
            "",
            "| what | µs / request |",
            "|---|---:|",
            f"| request metric (middleware alone) | {result['middleware_us']:.1f} |",
            f"| do-nothing DRF endpoint, metrics on | {result['request_on_us']:.1f} |",
            f"| do-nothing DRF endpoint, metrics off | {result['request_off_us']:.1f} |",
            f"| difference | {result['request_cost_us']:.1f} |",
            "",
            f"The wrk cases above ran with metrics {'off' if os.environ.get('METRICS_ENABLED') == 'off' else 'on'}"
            " (METRICS_ENABLED), the baseline included.",
            "",
        ]
    )


def main():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liveroom.settings")
    os.environ.setdefault("BENCH_ENDPOINT", "on")
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="liveroom-metrics-"))
    import django

    django.setup()
    print(render(measure()))


if __name__ == "__main__":
    main()
