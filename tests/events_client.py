"""Test helpers for the event streams: an ASGI server (uvicorn) in a thread of the test process,
so it shares the test's settings and database, and a small Server-Sent Events reader."""

import http.client
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def events_server(transactional_db, settings):
    """The project under uvicorn on a free port; its URL."""
    import uvicorn
    from django.db import connections

    from events.hub import hub

    hub.reset()
    port = free_port()
    config = uvicorn.Config(
        "liveroom.asgi:application", host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    hub.reset()
    connections.close_all()


class Stream:
    """An open event stream read in a thread: `events` is [(id, kind, data text)], `comments` counts
    the comment lines (heartbeats), `ended` tells the server closed it."""

    def __init__(self, url, headers=None):
        self.events, self.comments, self.ended, self.retry = [], 0, False, None
        parts = urlsplit(url)
        self._connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self._connection.request(
            "GET", f"{parts.path}?{parts.query}" if parts.query else parts.path, headers=headers or {}
        )
        self.response = self._connection.getresponse()
        self.status_code, self.headers = self.response.status, self.response.headers
        if self.status_code != 200:
            self.text = self.response.read().decode()
            return
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        buffer = ""
        try:
            while chunk := self.response.read1(65536):
                buffer += chunk.decode()
                while "\n\n" in buffer:
                    block, buffer = buffer.split("\n\n", 1)
                    self._block(block)
            self.ended = True
        except (OSError, ValueError, http.client.HTTPException):
            pass

    def _block(self, block):
        event_id, kind, data = "", "message", []
        for line in block.split("\n"):
            if line.startswith(":"):
                self.comments += 1
            elif line.startswith("retry: "):
                self.retry = int(line[7:])
            elif line.startswith("id: "):
                event_id = line[4:]
            elif line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        if data:
            self.events.append((event_id, kind, "\n".join(data)))

    def wait(self, condition, timeout=5.0):
        deadline = time.monotonic() + timeout
        while not condition(self):
            assert time.monotonic() < deadline, f"timed out; got {self.events}"
            time.sleep(0.02)

    def kinds(self):
        return [kind for _, kind, _ in self.events]

    def close(self):
        if self._connection.sock is not None:
            self._connection.sock.shutdown(socket.SHUT_RDWR)
        self._connection.close()


def wait_for_subscribers(n=1, timeout=5.0):
    """Until the servers' hubs hold `n` subscriptions to the bus (Redis mode)."""
    from events import bus
    from infra.redis import get_redis

    deadline = time.monotonic() + timeout
    while get_redis().pubsub_numsub(bus.pubsub_channel())[0][1] < n:
        assert time.monotonic() < deadline, "the hub did not subscribe"
        time.sleep(0.02)
