"""`make bench`: the SPEC §12 workload, measured on this machine.

Seeds 10,000 rooms (2,000 live) into a bench database of its own, starts two servers on
PostgreSQL + Redis at once, on ports of their own (bench/servers.py): gunicorn gthread 4 x 2,
whose do-nothing DRF endpoint is the yardstick, and the chosen server (BENCH_SERVER, granian as
deploy/ runs it). Drives them with wrk on loopback and prints requests/s and p99 latency of each
case: the whole case list on the chosen server (the heartbeat case on a room 10,000 viewers
watch), the do-nothing endpoint and the hot cases on both; then holds 100,000 viewers over the 2,000 live rooms in Redis (bytes per
viewer, the flush writing every room's count, the -viewer_count list's top 20), times one counter
flush of 100,000 increments over 10,000 rooms, and one sweep where the sweeper offers a measurement.
Writes bench/results.md.

The machine may be shared, so its speed drifts: each case runs several times, each run between
two runs of the yardstick, and a case's ratio is the median of (its requests/s / the mean of the
two yardstick runs around it). A case's ratio to the do-nothing endpoint on its own server is its
ratio over that endpoint's.

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/liveroom_bench; it is
emptied), BENCH_REDIS_URL (default REDIS_URL or redis://127.0.0.1:6379/0; keys under
`liveroom-bench:` only), BENCH_DURATION (seconds per run, 3), BENCH_ROUNDS (runs per case, 5),
BENCH_CONNECTIONS (64), BENCH_SERVER (granian or gthread: the server of the whole case list),
BENCH_WORKERS / BENCH_THREADS (the gthread yardstick, 4 / 2), BENCH_GRANIAN_WORKERS /
BENCH_GRANIAN_THREADS / BENCH_GRANIAN_BACKPRESSURE (granian, deploy/'s settings by default).
"""

import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import metrics_cost, report, servers  # noqa: E402
from bench.servers import YARDSTICK, free_port  # noqa: E402, F401 (bench/events.py takes free_port from here)

DURATION = int(os.environ.get("BENCH_DURATION", "3"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "64"))
SERVER = os.environ.get("BENCH_SERVER", "granian")
if SERVER not in servers.KINDS:
    sys.exit(f"BENCH_SERVER={SERVER!r}: one of {', '.join(servers.KINDS)}")
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/liveroom_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL") or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
PREFIX = "liveroom-bench"
SERVER_APP = "liveroom-bench-server"  # the application_name of the server's database sessions
REDIS_PIDS = [
    int(p) for p in subprocess.run(["pgrep", "-x", "redis-server"], capture_output=True, text=True).stdout.split()
]
BASELINE = "/api/v1/bench/noop/"
NOOP = "do-nothing DRF endpoint"
CROWD = 10_000  # viewers of the heartbeat case's room
HEARTBEAT = f"heartbeat, a room with {CROWD:,} viewers"
# Run on both servers, side by side; every other case runs on SERVER only.
HOT = {
    "list page 1",
    "detail of a live room",
    "like, one hot room",
    HEARTBEAT,
    "Xiaozhibo FetchList page 1",
    "Xiaozhibo ChangeCount (a like)",
    "list page 1 revalidated (304)",
    "list cursor page 50, most viewers",
}

ENV = {
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "REDIS_KEY_PREFIX": PREFIX,
    "DJANGO_DEBUG": "off",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    "DJANGO_SECRET_KEY": "bench-only-secret-key",
    "TENCENT_SECRET_ID": "AKIDbench",
    "TENCENT_SECRET_KEY": "bench-secret-key",
    "TENCENT_LIVE_PUSH_KEY": "bench-push-key",
    "TENCENT_LIVE_PLAY_KEY": "bench-play-key",
    "TENCENT_LIVE_CALLBACK_KEY": "bench-callback-key",
    "TENCENT_LIVE_API_KEY": "bench-api-key",
    "BENCH_ENDPOINT": "on",
    "XIAOZHIBO_COMPAT": "on",
    # One client address sends everything: the throttle still runs, with a limit it cannot reach.
    "THROTTLE_COUNTER": "1000000000/s",
    # The crowd of the heartbeat case stays for the whole run, heartbeating or not.
    "VIEWER_TIMEOUT": "3600",
    "LOG_LEVEL": "WARNING",
    "REDIS_SOCKET_TIMEOUT_MS": "250",  # the server's, as deployed
    # The cursor cases walk one snapshot for the whole run (its pages are recomputed from it).
    "LIST_SNAPSHOT_TTL": "3600",
}
T0 = time.monotonic()


def say(message):
    print(f"[{time.monotonic() - T0:6.1f}s] {message}", flush=True)


def main():
    ensure_wrk()
    ensure_database()
    os.environ.update(ENV)
    # This process's own bulk loading and flush timing are not the hot path; on a busy shared
    # machine Redis may pause for longer than the server's timeout.
    os.environ["REDIS_SOCKET_TIMEOUT_MS"] = "2000"
    # Metrics as in production: every process writes its samples to one directory (METRICS_ENABLED=off: none).
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="liveroom-bench-metrics-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "liveroom.settings"
    import django

    django.setup()
    from bench import seed

    setup = {
        "server": SERVER,
        "servers": {kind: servers.describe(kind) for kind in {YARDSTICK, SERVER}},
        "connections": CONNECTIONS,
        "duration": DURATION,
        "rounds": ROUNDS,
    }
    machine = report.describe_machine()
    say(f"machine: {machine['cpu']}, {machine['cores']} cores, load {machine['load_start']}")
    rng = random.Random(12)
    say("emptying the bench database and Redis namespace")
    seed.reset()
    clear_redis()
    sweep = measure_sweep()
    say("stream health: one check over 10,000 live streams against the simulator")
    health_check = metrics_cost.measure_health_check()
    say("seeding 10,000 rooms (2,000 live)")
    live = seed.seed(rng)
    plans = seed.explain_list()
    hot, shown, watched = live[len(live) // 2], live[len(live) // 3], live[len(live) // 4]
    say(f"heartbeat case: {CROWD:,} viewers join one room")
    os.environ["BENCH_TOKENS"] = str(seed.crowd(watched, CROWD, ROOT / "bench" / ".tokens"))
    cases = [
        ("list page 1", "/api/v1/rooms/", None),
        ("list page 50", "/api/v1/rooms/?page=50", None),
        ("detail of a live room", f"/api/v1/rooms/{shown}/", None),
        ("like, one hot room", f"/api/v1/rooms/{hot}/like/", "like.lua"),
        (HEARTBEAT, f"/api/v1/rooms/{watched}/heartbeat/", "heartbeat.lua"),
        ("Xiaozhibo FetchList page 1", "/interface.php", xiaozhibo({"Action": "FetchList", "flag": 1, "pageno": 1})),
        ("Xiaozhibo FetchList page 50", "/interface.php", xiaozhibo({"Action": "FetchList", "flag": 1, "pageno": 50})),
        ("Xiaozhibo ChangeCount (a like)", "/interface.php", xiaozhibo(change_count(seed.xiaozhibo_userid(hot)))),
        (
            "Xiaozhibo GetUserInfo",
            "/interface.php",
            xiaozhibo({"Action": "GetUserInfo", "userid": seed.xiaozhibo_userid(shown)}),
        ),
    ]
    say(
        f"Redis mode: {servers.describe(SERVER)}, yardstick {servers.describe(YARDSTICK)}; wrk {CONNECTIONS}"
        f" connections; {ROUNDS} runs of {DURATION} s per case, each between two yardstick runs"
    )
    cases.append(("list page 1 revalidated (304)", "/api/v1/rooms/", "revalidate.lua"))
    with Servers(ENV) as pair, Flusher(), NginxFront(pair.chosen) as front:
        server = pair.chosen
        say(f"nginx front (deploy/nginx/liveroom.conf) at {front.url}, in front of {SERVER}")
        cases.append(
            ("list page 1 through the nginx front (deploy/, TLS, cache warm)", f"{front.url}/api/v1/rooms/", None)
        )
        cases += [
            ("list cursor page 50", cursor_path(server, "/api/v1/rooms/"), None),
            ("list cursor page 50, most viewers", cursor_path(server, "/api/v1/rooms/?ordering=-viewer_count"), None),
        ]
        redis_mode = pair.compare(on_servers(cases))
    say("database-counter mode (no REDIS_URL): servers restarted")
    with Servers({**ENV, "REDIS_URL": ""}) as pair:
        like = ("like, one hot room, database mode", f"/api/v1/rooms/{hot}/like/", "like.lua", [SERVER])
        db_mode = pair.compare([like])
    clear_redis()  # its counts predate the database mode's likes: let it load them again
    say("viewers: 100,000 joining the 2,000 live rooms")
    viewers = seed.measure_viewers(rng, say)
    say(
        f"viewers: {viewers['bytes_per_viewer']:.0f} bytes of Redis each; flush of {viewers['written']:,} rooms"
        f" {viewers['flush_s'] * 1000:.0f} ms (exact: {viewers['exact']}); top 20 right: {viewers['top_matches']}"
    )
    clear_redis()
    say("flush: counting 100,000 increments over 10,000 rooms (all made live)")
    flush = seed.measure_flush(rng, say)
    say(f"flush of {flush['rooms']:,} rooms: {flush['flush_s'] * 1000:.0f} ms (counts exact: {flush['exact']})")
    machine["load_end"] = report.loadavg()
    text = report.render(machine, setup, redis_mode, db_mode, flush, sweep, plans, viewers)
    say("metrics: CPU cost per request (bench/metrics_cost.py)")
    text += metrics_cost.render(metrics_cost.measure(), health_check)
    (ROOT / "bench" / "results.md").write_text(text)
    print()
    print(report.table(setup, redis_mode, db_mode, flush, sweep, viewers))
    print()
    print(report.side_by_side(setup, redis_mode))
    say("written to bench/results.md")


def on_servers(cases):
    """(name, path, script, servers): the do-nothing endpoint on SERVER, then the cases, the hot
    ones on both servers."""
    both = [YARDSTICK, SERVER] if SERVER != YARDSTICK else [SERVER]
    noop = [(NOOP, BASELINE, None, [SERVER])] if SERVER != YARDSTICK else []
    return noop + [(name, path, script, both if name in HOT else [SERVER]) for name, path, script in cases]


def xiaozhibo(body):
    """A wrk script for a Xiaozhibo Action posted as the Android client does."""
    import json

    defaults = {"pagesize": 20} if body["Action"] == "FetchList" else {}
    return ("xiaozhibo.lua", json.dumps({**defaults, **body}))


def change_count(userid):
    """TCPlayerMgr.addHeartCount: a like of the anchor's live room."""
    return {"Action": "ChangeCount", "userid": userid, "type": 1, "optype": 0, "flag": 0, "fileid": ""}


# --- wrk, the servers, Redis -----------------------------------------------------------------------------


def ensure_wrk():
    if shutil.which("wrk"):
        return
    say("wrk is missing: installing it with apt-get")
    apt = ["apt-get"] if os.geteuid() == 0 else ["sudo", "-n", "apt-get"]
    if subprocess.run([*apt, "install", "-y", "-q", "wrk"], check=False).returncode != 0:
        subprocess.run([*apt, "update", "-q"], check=False)
        subprocess.run([*apt, "install", "-y", "-q", "wrk"], check=False)
    if not shutil.which("wrk"):
        sys.exit("wrk could not be installed; install it (apt-get install wrk) and run `make bench` again.")


def ensure_database():
    import psycopg

    base, name = DATABASE_URL.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            say(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def clear_redis():
    from infra.redis import get_redis

    client = get_redis()
    names = list(client.scan_iter(f"{PREFIX}:*", count=1000))
    for start in range(0, len(names), 1000):
        client.delete(*names[start : start + 1000])


class Servers:
    """The yardstick (gunicorn gthread) and SERVER, both running on ports of their own: the idle
    one costs nothing, and a case on either runs between two yardstick runs."""

    def __init__(self, env):
        self.env = {**os.environ, **env}
        self.stack = contextlib.ExitStack()

    def __enter__(self):
        self.by_kind = {
            kind: self.stack.enter_context(servers.Server(kind, self.env, f"{SERVER_APP}-{kind}"))
            for kind in dict.fromkeys([YARDSTICK, SERVER])
        }
        for server in self.by_kind.values():
            server.front_pids = []
        self.chosen = self.by_kind[SERVER]
        return self

    def __exit__(self, *exc):
        self.stack.close()

    def compare(self, cases):
        """{"baseline": [yardstick runs], "cases": [(name, server, [runs])]}: ROUNDS runs of each
        case on each of its servers, each between two yardstick runs and compared with the mean of
        those two (requests/s and CPU per request)."""
        yardstick = self.by_kind[YARDSTICK]
        measured = [(name, path, script, kind) for name, path, script, kinds in cases for kind in kinds]
        report.wrk(yardstick.url(BASELINE), None, 1, CONNECTIONS)  # warm-up: connections, caches, scripts
        for _, path, script, kind in measured:
            report.wrk(self.by_kind[kind].url(path), script, 1, CONNECTIONS)
        baselines = [self.run(yardstick, BASELINE, None)]
        result = [(name, kind, []) for name, _, _, kind in measured]
        for round_ in range(1, ROUNDS + 1):
            for (name, path, script, kind), (_, _, runs) in zip(measured, result, strict=True):
                run = self.run(self.by_kind[kind], path, script)
                baselines.append(self.run(yardstick, BASELINE, None))
                around = baselines[-2:]
                run["ratio"] = run["rps"] / (sum(b["rps"] for b in around) / 2)
                run["cpu_ratio"] = (sum(b["cpu_us"] for b in around) / 2) / run["cpu_us"]
                runs.append(run)
                say(
                    f"{name} on {kind} ({round_}/{ROUNDS}): {run['rps']:,.0f} req/s, p99 {run['p99_ms']:.1f} ms,"
                    f" {run['cpu_us']:.0f} µs CPU/request{report.errors_note(run)}; yardstick"
                    f" {around[0]['rps']:,.0f} / {around[1]['rps']:,.0f} req/s → {run['ratio']:.2f};"
                    f" by CPU {run['cpu_ratio']:.2f} (load {run['load']})"
                )
        return {"baseline": baselines, "cases": result}

    def run(self, server, path, script):
        """One measured wrk run, with the CPU time the server side spent per request (the server's
        processes, its PostgreSQL backends, Redis) plus wrk's own: what the run cost whatever else ran."""
        if script in PREPARE:
            PREPARE[script](server.url(path))
        load, pids = report.loadavg(), self.server_pids(server)
        before = report.cpu_seconds(pids)
        result = report.wrk(server.url(path), script, DURATION, CONNECTIONS)
        cpu = report.cpu_seconds(pids) - before + result["wrk_cpu"]
        return {**result, "load": load, "cpu_us": cpu / max(result["requests"], 1) * 1e6}

    def server_pids(self, server):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", [server.app_name])
            postgres = [row[0] for row in cursor.fetchall()]
        return [*server.pids(), *postgres, *REDIS_PIDS, *server.front_pids]


def _current_etag(url):
    """For bench/revalidate.lua: the ETag the answer has now (signed play URLs in it change it
    every minute, so it is fetched again before each run)."""
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as answer:
        os.environ["BENCH_IF_NONE_MATCH"] = answer.headers["ETag"]


PREPARE = {"revalidate.lua": _current_etag}  # wrk script → what to do before each run of it


def cursor_path(server, path, page=50):
    """The path of the `page`th page of a cursor walk that starts at `path` (its `next` links)."""
    url = server.url(path)
    for _ in range(page - 1):
        with urllib.request.urlopen(url, timeout=10) as response:
            url = json.load(response)["next"]
    parts = urllib.parse.urlsplit(url)
    return f"{parts.path}?{parts.query}"


class NginxFront:
    """The shipped nginx site (deploy/nginx/liveroom.conf, rendered as tests/scaleout/ does) in front
    of `server`; its processes count in the server's CPU time."""

    def __init__(self, server):
        self.server = server

    def __enter__(self):
        import tempfile

        from tests.scaleout.front import start_nginx
        from tests.scaleout.procs import Processes

        self.directory = tempfile.TemporaryDirectory(prefix="liveroom-bench-nginx-")
        self.procs = Processes(self.directory.name)
        nginx = start_nginx(self.procs, Path(self.directory.name) / "nginx", [self.server.port])
        self.url = nginx.url
        self.server.front_pids = [nginx.pid, *servers.children(nginx.pid)]
        return self

    def __exit__(self, *exc):
        self.server.front_pids = []
        self.procs.stop_all()
        self.directory.cleanup()


class Flusher:
    """Flushes counters every COUNTER_FLUSH_INTERVAL while the server runs, as Celery beat would."""

    def __enter__(self):
        from django.conf import settings

        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(settings.COUNTER_FLUSH_INTERVAL,), daemon=True)
        self.thread.start()
        return self

    def _run(self, interval):
        from django.db import connection

        from rooms import tasks

        while not self.stop.wait(interval):
            tasks.flush_counters()
        tasks.flush_counters()  # the last likes too, before the database mode counts on its own
        connection.close()

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def measure_sweep():
    """The sweeper's own measurement (bench.sweep), on the still empty bench database."""
    import importlib.util

    if importlib.util.find_spec("bench.sweep") is None:
        say("sweep: this version has no sweep measurement (bench.sweep); skipped")
        return None
    from bench.sweep import measure_sweep as measure

    say("sweep: one pass over 10,000 live rooms against the simulator")
    result = measure(rooms=10_000)
    say(f"sweep: {result['seconds']:.2f} s, {result['list_calls']} list call(s)")
    return result


if __name__ == "__main__":
    main()
