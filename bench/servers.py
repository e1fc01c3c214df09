"""The WSGI servers `make bench` compares, each serving liveroom on a free loopback port.

`gthread` is gunicorn's gthread worker as the bench has always run it (4 workers x 2 threads):
the do-nothing endpoint on it is the yardstick every case is compared with. `granian` is the
production server (deploy/), with the settings deploy/ gives it. BENCH_SERVER picks the one the
whole case list runs on; the other serves the do-nothing endpoint and the hot cases beside it.
"""

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
YARDSTICK = "gthread"
# gthread keeps connections alive (sync workers close each one); two threads per process let one
# run while the other waits for Redis or the database, without many threads queueing for the GIL.
GTHREAD = {
    "workers": int(os.environ.get("BENCH_WORKERS", "4")),
    "threads": int(os.environ.get("BENCH_THREADS", "2")),
}
# As deploy/ runs it (README, "The production front"): one worker per core, a few blocking
# threads each. No low --backpressure: granian holds it per connection, kept-alive ones included,
# so a worker would leave every connection past it unanswered.
GRANIAN = {
    "workers": int(os.environ.get("BENCH_GRANIAN_WORKERS", "2")),
    "threads": int(os.environ.get("BENCH_GRANIAN_THREADS", "4")),
}


def gthread_command(port, workers, threads):
    return [
        str(BIN / "gunicorn"),
        "liveroom.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        "--worker-class=gthread",
        f"--threads={threads}",
        "--backlog=2048",
        "--log-level=warning",
    ]


def granian_command(port, workers, threads, keep_alive=True):
    return [
        str(BIN / "granian"),
        "--interface=wsgi",
        "--host=127.0.0.1",
        f"--port={port}",
        "--http=1",
        "--no-ws",
        f"--workers={workers}",
        f"--blocking-threads={threads}",
        "--backlog=2048",
        "--log-level=warning",
        *([] if keep_alive else ["--no-http1-keep-alive"]),
        "liveroom.wsgi:application",
    ]


KINDS = {
    "gthread": (gthread_command, GTHREAD, "gunicorn {workers} workers x {threads} threads (gthread)"),
    "granian": (
        granian_command,
        GRANIAN,
        "granian (WSGI) {workers} workers x {threads} blocking threads",
    ),
}


def describe(kind):
    _, settings, text = KINDS[kind]
    return text.format(**settings)


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
    """One server process (and its workers) serving liveroom; `app_name` tags its database sessions."""

    def __init__(self, kind, env, app_name, **settings):
        self.kind, self.env, self.port, self.app_name = kind, dict(env), free_port(), app_name
        command, defaults, _ = KINDS[kind]
        self.command = command(self.port, **{**defaults, **settings})
        database = self.env["DATABASE_URL"]
        self.env["DATABASE_URL"] = f"{database}{'&' if '?' in database else '?'}application_name={app_name}"

    def __enter__(self):
        # a session of its own, so that stopping it stops its workers too, whatever its master does
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"{self.kind} stopped at start-up (see above)")
            if self._healthy():
                return self
            time.sleep(0.2)
        self.__exit__()
        sys.exit(f"{self.kind} did not answer /healthz within 30 s")

    def _healthy(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                return b" 200 " in sock.recv(100)
        except OSError:
            return False

    def __exit__(self, *exc):
        os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):  # workers that outlived their master
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def pids(self):
        """The server's own processes: its master and its workers."""
        return [self.process.pid, *children(self.process.pid)]

    def url(self, path):
        return path if "://" in path else f"http://127.0.0.1:{self.port}{path}"


def children(pid):
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(child) for child in found]
