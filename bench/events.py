"""`make bench-events`: 10,000 concurrent event-stream clients of one room.

Starts the event streams as deploy/ does (deploy/Procfile's `events` command: uvicorn with
EVENTS_WORKERS processes, 2 unless set) on the bench database and Redis, opens BENCH_SSE_CLIENTS
streams of one live room from a load client of its own (raw sockets as uvloop protocols, in a
process of its own so that its CPU is not the server's), and measures:

- the server's memory per client (RSS of all its processes after the clients connected, minus
  before, over clients);
- its CPU while the clients sit idle (heartbeats only), as a share of one core;
- its CPU per like and client: what writing one event to every stream costs (a figure that
  depends little on what else the machine runs, unlike the delays);
- the delay from a like (the counter path, as the like endpoint calls it) to its counts event
  arriving at every client: p50 / p99 over all clients and BENCH_SSE_LIKES likes.

Prints the figures and appends them to bench/results.md under "Event streams".
"""

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import report  # noqa: E402
from bench.run import DATABASE_URL, ENV, REDIS_URL, clear_redis, ensure_database, free_port, say  # noqa: E402

CLIENTS = int(os.environ.get("BENCH_SSE_CLIENTS", "10000"))
LIKES = int(os.environ.get("BENCH_SSE_LIKES", "10"))
WORKERS = int(os.environ.get("EVENTS_WORKERS", "2"))  # as deploy/ runs it: one per core
PROCESSES = 1 if WORKERS == 1 else WORKERS + 1  # uvicorn's supervisor and its workers
IDLE_SECONDS = 10


def main():
    ensure_database()
    os.environ.update(ENV)
    os.environ["DJANGO_SETTINGS_MODULE"] = "liveroom.settings"
    # this process loads the bench's 10,000 live rooms into Redis at its first like: more than the
    # app's 250 ms (the server keeps it)
    os.environ["REDIS_SOCKET_TIMEOUT_MS"] = "2000"
    import django

    django.setup()
    from django.core.management import call_command

    from accounts.models import User
    from rooms import counters, services
    from rooms.models import Room, RoomEvent

    call_command("migrate", verbosity=0)
    clear_redis()
    owner, _ = User.objects.get_or_create(username="bench-events")
    Room.objects.filter(owner=owner).delete()
    room = services.create_room(owner, title="Event stream bench")
    services.mark_live(room, source=RoomEvent.Source.API)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL, "REDIS_SOCKET_TIMEOUT_MS": "250"}
    env.update(EVENTS_PORT=str(port), EVENTS_WORKERS=str(WORKERS))
    server = subprocess.Popen(["sh", "-c", f"exec {_procfile('events')} --log-level=warning"], cwd=ROOT, env=env)
    try:
        _wait(port, server)
        rss_before = _rss(server.pid)
        say(
            f"uvicorn up ({WORKERS} worker(s), RSS {rss_before / 2**20:.1f} MiB);"
            f" opening {CLIENTS:,} streams of room {room.pk}"
        )
        client = subprocess.Popen(
            [sys.executable, __file__, "client", str(port), str(room.pk), str(CLIENTS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        opened = int(client.stdout.readline().split()[-1])
        say(f"{opened:,} of {CLIENTS:,} streams open")
        started = time.monotonic()
        # not measured: this process's first like connects to Redis, registers the counter
        # scripts and loads the live rooms (10,000 after `make bench`'s seed), work that the
        # running web processes did long before a viewer's like
        counters_like(counters, room.pk)
        say(f"a first like, not measured, took {time.monotonic() - started:.2f} s in this process")
        time.sleep(2)
        rss_after = _rss(server.pid)
        spread = _sockets(server.pid)
        say(f"{CLIENTS:,} streams open: RSS {rss_after / 2**20:.1f} MiB; sockets per worker {spread}")
        cpu_before = report.cpu_seconds(_family(server.pid))
        time.sleep(IDLE_SECONDS)
        idle_cpu = (report.cpu_seconds(_family(server.pid)) - cpu_before) / IDLE_SECONDS
        delays = []
        fanout_cpu = 0.0
        for n in range(LIKES):
            cpu_before = report.cpu_seconds(_family(server.pid))
            sent = time.time()
            counters_like(counters, room.pk)
            client.stdin.write(f"{sent}\n")
            client.stdin.flush()
            got = sorted(json.loads(client.stdout.readline()))
            cpu = report.cpu_seconds(_family(server.pid)) - cpu_before - idle_cpu * (time.time() - sent)
            fanout_cpu += cpu
            delays += got
            say(
                f"like {n + 1}/{LIKES}: reached {len(got):,} clients, p50 {got[len(got) // 2] * 1000:.0f} ms,"
                f" p99 {got[int(len(got) * 0.99)] * 1000:.0f} ms; server CPU {cpu:.2f} s"
            )
            time.sleep(1.1)  # past the one-a-second coalescing: each like is its own event
        client.stdin.close()
        client.wait(timeout=60)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:  # thousands of streams still closing
            server.kill()
            server.wait()
    delays.sort()
    result = {
        "clients": opened,
        "per_client_kib": (rss_after - rss_before) / max(opened, 1) / 1024,
        "idle_cpu": idle_cpu,
        "spread": ", ".join(f"{count:,}" for count in spread),
        "fanout_us": fanout_cpu / LIKES / max(opened, 1) * 1e6,
        "p50_ms": delays[len(delays) // 2] * 1000,
        "p99_ms": delays[int(len(delays) * 0.99)] * 1000,
        "load": report.loadavg(),
    }
    text = (
        f"\n## Event streams (`make bench-events`)\n\n"
        f"{result['clients']:,} concurrent streams of one live room on {WORKERS} uvicorn worker processes as"
        f" deploy/Procfile starts them, streams per worker {result['spread']} (load client: raw sockets as uvloop"
        f" protocols in a process of its own); load average {result['load']} at the end.\n\n"
        f"| figure | value | target |\n|---|---:|---:|\n"
        f"| server memory per client | {result['per_client_kib']:.1f} KiB | |\n"
        f"| server CPU with all clients idle (heartbeats every 15 s) | {result['idle_cpu'] * 100:.1f} % of a core | |\n"
        f"| server CPU per like and client (its counts event written once to each stream) |"
        f" {result['fanout_us']:.1f} µs | |\n"
        f"| like → its counts event at every client, p50 | {result['p50_ms']:.0f} ms | |\n"
        f"| like → its counts event at every client, p99 | {result['p99_ms']:.0f} ms | ≤ 1,000 ms"
        f" {'met' if result['p99_ms'] <= 1000 else 'MISSED'} |\n"
    )
    print(text)
    results = ROOT / "bench" / "results.md"
    if results.exists():
        body = results.read_text().split("\n## Event streams")[0].rstrip("\n") + "\n"
        results.write_text(body + text)


def counters_like(counters, room_id):
    """A like as the like endpoint makes it (the counter path publishes the counts itself)."""
    if hasattr(counters, "like"):
        counters.like(room_id, 1)
    else:
        counters.increment(room_id, "like_count", 1)


def _procfile(name):
    """deploy/Procfile's command `name` (run by a shell, as a process manager does)."""
    for line in (ROOT / "deploy" / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    sys.exit(f"no {name} in deploy/Procfile")


def _wait(port, server):
    """Until every worker answers (a 400 of the list stream's: no database), and has loaded."""
    import http.client

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/api/v1/events/")
            connection.getresponse().read()
            break
        except OSError:
            time.sleep(0.2)
    else:
        sys.exit("uvicorn did not start")
    while time.monotonic() < deadline:  # the workers import the project one by one: until all have
        rss = _rss(server.pid)
        time.sleep(1)
        if len(_family(server.pid)) >= PROCESSES and abs(_rss(server.pid) - rss) < 2**20:
            return
    sys.exit("uvicorn's workers did not start")


def _family(pid):
    """The server process and its workers."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        children = []
    return [pid, *map(int, children)]


def _sockets(pid):
    """How many sockets each worker holds (how evenly the streams are spread)."""
    counts = []
    for member in _family(pid)[1:] or [pid]:
        with contextlib.suppress(FileNotFoundError):  # a socket closing meanwhile
            fds = list(Path(f"/proc/{member}/fd").iterdir())
            counts.append(sum(1 for fd in fds if os.readlink(fd).startswith("socket:")))
    return [count for count in counts if count]  # not multiprocessing's resource tracker


def _rss(pid):
    """The resident memory of the server and its workers, in bytes."""
    total = 0
    for member in _family(pid):
        try:
            lines = Path(f"/proc/{member}/status").read_text().splitlines()
        except FileNotFoundError:
            continue
        total += sum(int(line.split()[1]) * 1024 for line in lines if line.startswith("VmRSS:"))
    return total


# --- the load client (a process of its own) ---------------------------------------------------------


class _Stream(asyncio.Protocol):
    """One stream of the load client: protocol callbacks on uvloop, no task of its own, so that
    the client takes as little as it can of the CPU the server needs."""

    def __init__(self, board):
        self.board, self.state, self.arrival = board, "waiting", 0.0  # waiting → open → closed

    def connection_made(self, transport):
        transport.write(self.board.request)

    def data_received(self, data):
        if self.state == "waiting" and b"retry:" in data:
            self.state = "open"
            self.board.open += 1
        if b"event: counts" in data:
            self.arrival = time.time()
            self.board.arrived(self)

    def connection_lost(self, exc):
        if self.state == "open":
            self.board.open -= 1
            self.board.arrived(None)
        self.state = "closed"


class _Board:
    """The streams, how many are open and, for the like in flight, how many it has reached."""

    def __init__(self, request):
        self.request, self.streams, self.open = request, [], 0
        self.sent, self.reached, self.done = None, 0, asyncio.Event()

    def expect(self, sent):
        self.sent, self.done = sent, asyncio.Event()
        self.reached = sum(1 for s in self.streams if s.state == "open" and s.arrival >= sent)
        self.arrived(None)

    def arrived(self, stream):
        if self.sent is None:
            return
        if stream is not None and stream.arrival >= self.sent:
            self.reached += 1
        if self.reached >= self.open:
            self.done.set()

    def delays(self):
        """An open stream the event did not reach counts as 10 s."""
        open_ = [s for s in self.streams if s.state == "open"]
        return [s.arrival - self.sent if s.arrival >= self.sent else 10.0 for s in open_]


async def _client(port, room_id, n):
    loop = asyncio.get_running_loop()
    board = _Board(
        f"GET /api/v1/rooms/{room_id}/events/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    transports = []

    async def connect():
        stream = _Stream(board)
        try:
            transport, _ = await loop.create_connection(lambda: stream, "127.0.0.1", port)
        except OSError:
            return  # refused: tried again in the next wave
        board.streams.append(stream)
        transports.append(transport)

    for _ in range(5):  # open them in waves, again for those refused or cut (the listen backlog is finite)
        board.streams = [s for s in board.streams if s.state != "closed"]
        todo = n - len(board.streams)
        if not todo:
            break
        for start in range(0, todo, 500):
            await asyncio.gather(*(connect() for _ in range(min(500, todo - start))))
            await asyncio.sleep(0.1)
        deadline = time.time() + 300
        while time.time() < deadline and any(s.state == "waiting" for s in board.streams):
            await asyncio.sleep(0.1)
    print(f"connected {board.open}", flush=True)
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        board.expect(float(line))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(board.done.wait(), 10)
        print(json.dumps(board.delays()), flush=True)
    for transport in transports:
        transport.close()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        import uvloop

        uvloop.run(_client(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])))
    else:
        main()
