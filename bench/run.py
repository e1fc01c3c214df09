"""`make bench`: the SPEC §12 workload, measured on this machine.

Seeds 10,000 rooms (2,000 live) into a bench database of its own, starts gunicorn on
PostgreSQL + Redis, drives it with wrk on loopback and prints requests/s and p99 latency of each
case against a do-nothing DRF endpoint served by the same server (the heartbeat case on a room
10,000 viewers watch); then holds 100,000 viewers over the 2,000 live rooms in Redis (bytes per
viewer, the flush writing every room's count, the -viewer_count list's top 20), times one counter
flush of 100,000 increments over 10,000 rooms, and one sweep where the sweeper offers a measurement.
Writes bench/results.md.

The machine may be shared, so its speed drifts: each case runs several times, each run between
two runs of the baseline, and a case's ratio is the median of (its requests/s / the mean of the
two baselines around it).

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/liveroom_bench; it is
emptied), BENCH_REDIS_URL (default REDIS_URL or redis://127.0.0.1:6379/0; keys under
`liveroom-bench:` only), BENCH_DURATION (seconds per run, 3), BENCH_ROUNDS (runs per case, 5),
BENCH_CONNECTIONS (64), BENCH_WORKERS / BENCH_THREADS (gunicorn gthread, 4 / 2).
"""

import json
import os
import random
import shutil
import socket
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

from bench import metrics_cost, report  # noqa: E402

BIN = Path(sys.executable).parent
DURATION = int(os.environ.get("BENCH_DURATION", "3"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "64"))
# gthread keeps connections alive (sync workers close each one); two threads per process let one
# run while the other waits for Redis or the database, without many threads queueing for the GIL.
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/liveroom_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL") or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
PREFIX = "liveroom-bench"
SERVER_APP = "liveroom-bench-server"  # the application_name of the server's database sessions
REDIS_PIDS = [
    int(p) for p in subprocess.run(["pgrep", "-x", "redis-server"], capture_output=True, text=True).stdout.split()
]
BASELINE = "/api/v1/bench/noop/"
CROWD = 10_000  # viewers of the heartbeat case's room
HEARTBEAT = f"heartbeat, a room with {CROWD:,} viewers"

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
        "workers": WORKERS,
        "threads": THREADS,
        "worker_class": "gthread",
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
        f"Redis mode: gunicorn {WORKERS} workers x {THREADS} threads; wrk {CONNECTIONS} connections;"
        f" {ROUNDS} runs of {DURATION} s per case, each between two baseline runs"
    )
    cases.append(("list page 1 revalidated (304)", "/api/v1/rooms/", "revalidate.lua"))
    with Server(ENV) as server, Flusher(), NginxFront(server) as front:
        say(f"nginx front (deploy/nginx/liveroom.conf) at {front.url}, in front of that gunicorn")
        cases.append(
            ("list page 1 through the nginx front (deploy/, TLS, cache warm)", f"{front.url}/api/v1/rooms/", None)
        )
        cases += [
            ("list cursor page 50", cursor_path(server, "/api/v1/rooms/"), None),
            ("list cursor page 50, most viewers", cursor_path(server, "/api/v1/rooms/?ordering=-viewer_count"), None),
        ]
        redis_mode = server.compare(cases)
    say("database-counter mode (no REDIS_URL): gunicorn restarted")
    with Server({**ENV, "REDIS_URL": ""}) as server:
        db_mode = server.compare([("like, one hot room, database mode", f"/api/v1/rooms/{hot}/like/", "like.lua")])
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
    print(report.table(redis_mode, db_mode, flush, sweep, viewers))
    say("written to bench/results.md")


def xiaozhibo(body):
    """A wrk script for a Xiaozhibo Action posted as the Android client does."""
    import json

    defaults = {"pagesize": 20} if body["Action"] == "FetchList" else {}
    return ("xiaozhibo.lua", json.dumps({**defaults, **body}))


def change_count(userid):
    """TCPlayerMgr.addHeartCount: a like of the anchor's live room."""
    return {"Action": "ChangeCount", "userid": userid, "type": 1, "optype": 0, "flag": 0, "fileid": ""}


# --- wrk, gunicorn, Redis -----------------------------------------------------------------------------


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


def free_port():
    for port in random.sample(range(28000, 29000), 1000):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    sys.exit("no free port in 28000-28999")


class Server:
    """gunicorn serving liveroom on a free loopback port."""

    def __init__(self, env):
        self.env, self.port, self.front_pids = {**os.environ, **env}, free_port(), []
        separator = "&" if "?" in DATABASE_URL else "?"
        self.env["DATABASE_URL"] = f"{DATABASE_URL}{separator}application_name={SERVER_APP}"

    def __enter__(self):
        command = [
            str(BIN / "gunicorn"),
            "liveroom.wsgi:application",
            f"--bind=127.0.0.1:{self.port}",
            f"--workers={WORKERS}",
            "--worker-class=gthread",
            f"--threads={THREADS}",
            "--backlog=2048",
            "--log-level=warning",
        ]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit("gunicorn stopped at start-up (see above)")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                    if b" 200 " in sock.recv(100):
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        sys.exit("gunicorn did not answer /healthz within 30 s")

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=30)

    def compare(self, cases):
        """{"baseline": [runs], case name: [runs]}: ROUNDS runs of each case, each between two
        baseline runs and compared with the mean of those two (requests/s and CPU per request)."""
        for _, path, script in [("baseline", BASELINE, None), *cases]:
            report.wrk(self.url(path), script, 1, CONNECTIONS)  # warm-up: connections, caches, scripts
        baselines = [self.run(BASELINE, None)]
        result = {name: [] for name, _, _ in cases}
        for round_ in range(1, ROUNDS + 1):
            for name, path, script in cases:
                run = self.run(path, script)
                baselines.append(self.run(BASELINE, None))
                around = baselines[-2:]
                run["ratio"] = run["rps"] / (sum(b["rps"] for b in around) / 2)
                run["cpu_ratio"] = (sum(b["cpu_us"] for b in around) / 2) / run["cpu_us"]
                result[name].append(run)
                say(
                    f"{name} ({round_}/{ROUNDS}): {run['rps']:,.0f} req/s, p99 {run['p99_ms']:.1f} ms,"
                    f" {run['cpu_us']:.0f} µs CPU/request{report.errors_note(run)}; baseline"
                    f" {around[0]['rps']:,.0f} / {around[1]['rps']:,.0f} req/s → {run['ratio']:.2f};"
                    f" by CPU {run['cpu_ratio']:.2f} (load {run['load']})"
                )
        return {"baseline": baselines, **result}

    def run(self, path, script):
        """One measured wrk run, with the CPU time the server side spent per request (gunicorn,
        its PostgreSQL backends, Redis) plus wrk's own: what the run cost whatever else ran."""
        if script in PREPARE:
            PREPARE[script](self.url(path))
        load, pids = report.loadavg(), self.server_pids()
        before = report.cpu_seconds(pids)
        result = report.wrk(self.url(path), script, DURATION, CONNECTIONS)
        cpu = report.cpu_seconds(pids) - before + result["wrk_cpu"]
        return {**result, "load": load, "cpu_us": cpu / max(result["requests"], 1) * 1e6}

    def server_pids(self):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", [SERVER_APP])
            postgres = [row[0] for row in cursor.fetchall()]
        return [self.process.pid, *_children(self.process.pid), *postgres, *REDIS_PIDS, *self.front_pids]

    def url(self, path):
        return path if "://" in path else f"http://127.0.0.1:{self.port}{path}"


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


def _children(pid):
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(child) for child in found]


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
        self.server.front_pids = [nginx.pid, *_children(nginx.pid)]
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
