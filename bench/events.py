"""`make bench-events`: 10,000 concurrent event-stream clients on one uvicorn process.

Starts uvicorn (the ASGI process of `make run` and `deploy/`) on the bench database and Redis,
opens BENCH_SSE_CLIENTS streams of one live room from a load client of its own (asyncio, raw
sockets, in a second process so that its CPU is not the server's), and measures:

- the server's memory per client (RSS after the clients connected, minus before, over clients);
- its CPU while the clients sit idle (heartbeats only), as a share of one core;
- the delay from a like (the counter path, as the like endpoint calls it) to its counts event
  arriving at every client: p50 / p99 over all clients and BENCH_SSE_LIKES likes.

Prints the figures and appends them to bench/results.md under "Event streams".
"""

import asyncio
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
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "uvicorn"),
            "liveroom.asgi:application",
            "--host=127.0.0.1",
            f"--port={port}",
            "--no-access-log",
            "--log-level=warning",
            "--backlog=4096",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        _wait(port)
        rss_before = _rss(server.pid)
        say(f"uvicorn up (RSS {rss_before / 2**20:.1f} MiB); opening {CLIENTS:,} streams of room {room.pk}")
        client = subprocess.Popen(
            [sys.executable, __file__, "client", str(port), str(room.pk), str(CLIENTS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        opened = int(client.stdout.readline().split()[-1])
        say(f"{opened:,} of {CLIENTS:,} streams open")
        time.sleep(2)
        rss_after = _rss(server.pid)
        say(f"{CLIENTS:,} streams open: RSS {rss_after / 2**20:.1f} MiB")
        cpu_before = report.cpu_seconds([server.pid])
        time.sleep(IDLE_SECONDS)
        idle_cpu = (report.cpu_seconds([server.pid]) - cpu_before) / IDLE_SECONDS
        delays = []
        for n in range(LIKES):
            sent = time.time()
            counters_like(counters, room.pk)
            client.stdin.write(f"{sent}\n")
            client.stdin.flush()
            delays += json.loads(client.stdout.readline())
            say(f"like {n + 1}/{LIKES}: reached {CLIENTS:,} clients")
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
        "p50_ms": delays[len(delays) // 2] * 1000,
        "p99_ms": delays[int(len(delays) * 0.99)] * 1000,
        "load": report.loadavg(),
    }
    text = (
        f"\n## Event streams (`make bench-events`)\n\n"
        f"{result['clients']:,} concurrent streams of one live room on one uvicorn process (load client: asyncio raw"
        f" sockets in a second process); load average {result['load']} at the end.\n\n"
        f"| figure | value | target |\n|---|---:|---:|\n"
        f"| server memory per client | {result['per_client_kib']:.1f} KiB | |\n"
        f"| server CPU with all clients idle (heartbeats every 15 s) | {result['idle_cpu'] * 100:.1f} % of a core | |\n"
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


def _wait(port):
    import socket

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    sys.exit("uvicorn did not start")


def _rss(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


# --- the load client (a process of its own) ---------------------------------------------------------


async def _read(reader):
    try:
        return await reader.read(65536)
    except OSError:
        return b""


async def _client(port, room_id, n):
    request = (
        f"GET /api/v1/rooms/{room_id}/events/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
    ).encode()
    arrivals, state = [None] * n, ["closed"] * n  # closed → waiting → open

    async def stream(i):
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return  # refused: tried again in the next wave
        writer.write(request)
        state[i] = "waiting"
        try:
            while data := await _read(reader):
                if b"retry:" in data:
                    state[i] = "open"
                if b"event: counts" in data:
                    arrivals[i] = time.time()
        finally:
            state[i] = "closed"

    tasks = {}
    for _ in range(5):  # open them in waves, again for those refused or cut (the listen backlog is finite)
        todo = [i for i in range(n) if state[i] == "closed"]
        if not todo:
            break
        for start in range(0, len(todo), 500):
            for i in todo[start : start + 500]:
                tasks[i] = asyncio.create_task(stream(i))
            await asyncio.sleep(0.1)
        deadline = time.time() + 300
        while time.time() < deadline and "waiting" in state:
            await asyncio.sleep(0.1)
    print(f"connected {state.count('open')}", flush=True)
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        sent = float(line)
        deadline = time.time() + 10
        while time.time() < deadline and any(
            s == "open" and (a is None or a < sent) for s, a in zip(state, arrivals, strict=True)
        ):
            await asyncio.sleep(0.01)
        # an open stream the event did not reach in 10 s counts as 10 s
        late = [a - sent if a and a >= sent else 10.0 for s, a in zip(state, arrivals, strict=True) if s == "open"]
        print(json.dumps(late), flush=True)
    for task in tasks.values():
        task.cancel()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        asyncio.run(_client(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])))
    else:
        main()
