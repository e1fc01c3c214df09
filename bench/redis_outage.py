"""The list's speed while Redis is down, against the normal uncached list (`make bench-outage`).

Seeds the bench database like `make bench` (10,000 rooms, 2,000 live), starts a redis-server of
its own and the bench's servers on it (bench/run.py, BENCH_SERVER) with the list cache off, then runs wrk on `GET /api/v1/rooms/`:
normal, Redis stopped (SIGSTOP: it accepts connections and answers nothing), normal, Redis
killed, normal, three times. Each outage run is compared with the mean of the normal runs around
it, and the median of those ratios is printed.
It also times redis-py's retry policy with the circuit breaker and without, around a call that
does nothing: what the breaker adds to every Redis round trip on the hot paths.
"""

import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# An uncached page costs far more than a cached one: fewer connections keep wrk's 2 s timeout away.
os.environ.setdefault("BENCH_CONNECTIONS", "16")

from bench import report, run  # noqa: E402
from tests.faults.servers import RedisServer  # noqa: E402

LIST = "/api/v1/rooms/"


def main():
    run.ensure_wrk()
    run.ensure_database()
    os.environ.update(run.ENV)
    os.environ["REDIS_SOCKET_TIMEOUT_MS"] = "2000"  # this process's seeding, as in `make bench`
    os.environ["DJANGO_SETTINGS_MODULE"] = "liveroom.settings"
    import django

    django.setup()
    from bench import seed

    run.say(f"load average {report.loadavg()}; seeding 10,000 rooms (2,000 live)")
    seed.reset()
    seed.seed(random.Random(12))
    with tempfile.TemporaryDirectory() as workdir:
        redis_server = RedisServer(workdir).start()
        try:
            env = {**run.ENV, "REDIS_URL": redis_server.url, "ROOM_LIST_CACHE_TTL": "0", "REDIS_BREAKER_SECONDS": "1"}
            with run.Servers(env) as servers:
                rows = outages(servers, redis_server)
            overhead = breaker_overhead(redis_server.url)
        finally:
            redis_server.resume()
            redis_server.close()
    print()
    print("| run | list requests/s | p99 ms | ratio to the normal uncached list |")
    print("|---|---|---|---|")
    for name, result, ratio in rows:
        shown = f"{ratio:.2f}" if ratio is not None else ""
        print(f"| {name} | {result['rps']:,.0f} | {result['p99_ms']:.1f} | {shown} |")
    print()
    print(
        f"redis-py's retry policy around a call that does nothing, best of 5 x {overhead['calls']:,}: with the"
        f" breaker {overhead['breaker_us']:.2f} µs, plain {overhead['plain_us']:.2f} µs:"
        f" the breaker adds {overhead['added_us']:+.2f} µs to each Redis round trip"
    )
    for name in ("Redis stopped (SIGSTOP)", "Redis killed"):
        ratios = sorted(ratio for row, _, ratio in rows if row == name)
        print(f"{name}: median ratio {statistics.median(ratios):.2f} (runs: {', '.join(f'{r:.2f}' for r in ratios)})")
    print(f"load average {report.loadavg()}")


def outages(servers, redis_server, rounds=3):
    """[(name, wrk result, ratio)]: `rounds` of each outage on the chosen server, each between two normal runs."""
    server = servers.chosen
    report.wrk(server.url(LIST), None, 1, run.CONNECTIONS)  # warm-up
    normal = [servers.run(server, LIST, None)]
    rows = [("normal (uncached)", normal[0], None)]
    for round_ in range(1, rounds + 1):
        for name, fault, mend in (
            ("Redis stopped (SIGSTOP)", redis_server.stop, redis_server.resume),
            ("Redis killed", redis_server.kill, redis_server.start),
        ):
            fault()
            down = servers.run(server, LIST, None)
            mend()
            time.sleep(1.5)  # past REDIS_BREAKER_SECONDS: the breakers let a call through again
            normal.append(servers.run(server, LIST, None))
            ratio = down["rps"] / ((normal[-2]["rps"] + normal[-1]["rps"]) / 2)
            run.say(f"{name} ({round_}/{rounds}): {down['rps']:,.0f} req/s{report.errors_note(down)} → {ratio:.2f}")
            rows += [(name, down, ratio), ("normal (uncached)", normal[-1], None)]
    return rows


def breaker_overhead(url, calls=200000):
    """What the breaker adds to one round trip: redis-py's retry policy around a call that does
    nothing, with the breaker and without (the round trip itself is the same either way)."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    from infra.breaker import BreakerRetry, new_breaker

    policies = {"breaker_us": BreakerRetry(new_breaker(url, 5)), "plain_us": Retry(NoBackoff(), 1)}
    timings = {name: [] for name in policies}
    for _ in range(5):  # interleaved, best of five: the machine may be busy
        for name, policy in policies.items():
            started = time.perf_counter()
            for _ in range(calls):
                policy.call_with_retry(int, print)
            timings[name].append((time.perf_counter() - started) / calls * 1e6)
    result = {name: min(values) for name, values in timings.items()}
    return {**result, "added_us": result["breaker_us"] - result["plain_us"], "calls": calls}


if __name__ == "__main__":
    main()
