"""The processes a fault test owns: a redis-server, a TCP proxy in front of PostgreSQL, granian.

Each listens on 127.0.0.1 on a port the OS picked, and `close()` ends what it started (by its
own pid), so nothing is left behind and nothing shared is touched.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

BASE_DIR = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, timeout=15.0, interval=0.05, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise AssertionError(f"{what} did not happen within {timeout} s")


class RedisServer:
    """`redis-server` without persistence (or with AOF, fsync on every write, when `aof`)."""

    def __init__(self, workdir, *, port=None, aof=False):
        self.workdir, self.port, self.aof = Path(workdir), port or free_port(), aof
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        aof = ["--appendonly", "yes", "--appendfsync", "always"] if self.aof else ["--appendonly", "no"]
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", *aof]
        command += ["--dir", str(self.workdir), "--logfile", str(self.workdir / "redis.log")]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.answers, what=f"redis-server on port {self.port} answering")
        return self

    def answers(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self):
        """SIGKILL: gone at once, with whatever it held in memory."""
        self.process.send_signal(signal.SIGCONT)
        self.process.kill()
        self.process.wait(10)

    def stop(self):
        """SIGSTOP: it still accepts connections (the kernel does) but answers nothing."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self):
        self.process.send_signal(signal.SIGCONT)

    def close(self):
        if self.process and self.process.poll() is None:
            self.kill()


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `target`; `cut()` resets every connection and refuses new
    ones (a database restart or failover as the client sees it) until `restore()`."""

    def __init__(self, target):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open, self.closed = True, False
        self.pairs, self.lock = set(), threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self):
        self.open = False
        with self.lock:
            pairs, self.pairs = list(self.pairs), set()
        for pair in pairs:
            for sock in pair:
                _reset(sock)

    def restore(self):
        self.open = True

    def close(self):
        self.closed = True
        self.cut()
        self.listener.close()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _reset(client)
                continue
            upstream.settimeout(None)
            pair = (client, upstream)
            with self.lock:
                self.pairs.add(pair)
            threading.Thread(target=self._pump, args=(client, upstream, pair), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, pair), daemon=True).start()

    def _pump(self, source, sink, pair):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        with self.lock:
            self.pairs.discard(pair)
        for sock in pair:
            _reset(sock)


def _reset(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class AppServer:
    """The app under granian (WSGI, as deployed), configured by environment only; its workers are
    in a session of their own, stopped with it."""

    def __init__(self, env, workdir, *, threads=8):
        self.port = free_port()
        self.log = Path(workdir) / f"granian-{self.port}.log"
        command = [str(Path(sys.executable).parent / "granian"), "--interface", "wsgi", "--http", "1"]
        command += [
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            "1",
            "--blocking-threads",
            str(threads),
        ]
        command += ["--workers-kill-timeout", "1", "liveroom.wsgi:application"]
        full_env = {**os.environ, **env}
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=BASE_DIR, env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        wait_until(self._up, timeout=30, what="granian answering")

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def _up(self):
        if self.process.poll() is not None:
            raise AssertionError(f"granian exited: {self.log.read_text()[-2000:]}")
        try:
            requests.get(self.url("/healthz"), timeout=2)
            return True
        except requests.RequestException:
            return False

    def close(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
