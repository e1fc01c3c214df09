"""Real processes for the scale-out tests: redis-server / sentinel, web nodes, Celery, nginx.

Each runs in a session of its own (so its children go with it), logs to a file the failure
message quotes, and is stopped by its own pid at the end: nothing is looked up by name.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    def __init__(self, name, argv, *, env=None, log_dir, cwd=ROOT):
        self.name, self.argv = name, argv
        self.log = Path(log_dir) / f"{name}.log"
        with open(self.log, "ab") as out:
            self.popen = subprocess.Popen(
                argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def tail(self, lines=30):
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def kill(self, sig=signal.SIGKILL):
        """Signal the process group this process leads (it and its children, nothing else)."""
        if self.alive():
            os.killpg(self.popen.pid, sig)

    def stop(self, timeout=8):
        if not self.alive():
            return
        self.kill(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill(signal.SIGKILL)
            self.popen.wait(5)


class Processes:
    """Starts processes and stops them all (newest first) at `stop_all()`."""

    def __init__(self, log_dir):
        self.log_dir, self.started = Path(log_dir), []

    def start(self, name, argv, env=None):
        proc = Proc(name, argv, env=env, log_dir=self.log_dir)
        self.started.append(proc)
        return proc

    def stop_all(self, timeout=3):
        """SIGTERM to all at once, SIGKILL to what is still running after `timeout`."""
        for proc in self.started:
            proc.kill(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in self.started:
            try:
                proc.popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill(signal.SIGKILL)
                proc.popen.wait(5)

    def redis(self, port=None, *args):
        port = port or free_port()
        proc = self.start(
            f"redis-{port}",
            [
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.log_dir),
                *args,
            ],
        )
        proc.port = port
        wait_for(lambda: _redis_ping(port), f"redis-server on {port}", proc)
        return proc

    def web(self, name, env, *, workers=2):
        """A web node exactly as deploy/Procfile's `web` line starts it (PORT, WEB_CONCURRENCY set here)."""
        port = free_port()
        env = {**(env or os.environ), "PORT": str(port), "WEB_CONCURRENCY": str(workers)}
        proc = self.start(name, ["bash", "-c", f"exec {procfile_command('web')}"], env)
        proc.port, proc.url = port, f"http://127.0.0.1:{port}"
        return proc

    def celery(self, name, env, *args):
        return self.start(name, [str(BIN / "celery"), "-A", "liveroom", *args], env)


def procfile_command(name) -> str:
    for line in (ROOT / "deploy" / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise LookupError(f"no {name} in deploy/Procfile")


def _redis_ping(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def wait_for(check, what, proc=None, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if proc is not None and not proc.alive():
            raise AssertionError(f"{what}: the process exited\n{proc.tail()}")
        time.sleep(0.05)
    raise AssertionError(f"{what}: not ready after {timeout} s" + (f"\n{proc.tail()}" if proc else ""))


def wait_http(proc, path="/healthz", timeout=30.0, **kwargs):
    def ok():
        try:
            return requests.get(proc.url + path, timeout=1, **kwargs).status_code == 200
        except requests.RequestException:
            return False

    wait_for(ok, f"{proc.name} at {proc.url}", proc, timeout)
