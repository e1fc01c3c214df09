"""The simulator's HTTP server: API 3.0, the legacy API and the `/sim/...` control endpoints."""

import json
import logging
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from ..legacy import redact
from . import api3, edge, legacy
from .core import Simulator

logger = logging.getLogger("livecloud.sim")


def _json(status, body):
    return status, "application/json", json.dumps(body).encode()


def _body_json(body):
    try:
        data = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def sim_publish(sim, match, body):
    data = _body_json(body)
    if not data or not isinstance(data.get("push_url"), str):
        return _json(400, {"reason": 'send {"push_url": "rtmp://…"}'})
    return _json(*sim.publish(data["push_url"]))


def sim_stream(sim, match, body):
    stream_id, verb = unquote(match["stream_id"]), match["verb"]
    actions = {
        "stop": lambda: sim.stop(stream_id),
        "crash": lambda: sim.stop(stream_id, callback=False),
        "record": lambda: sim.recording(stream_id),
        "screenshot": lambda: sim.screenshot(stream_id),
    }
    deliveries = actions[verb]()
    if deliveries is None:
        return _json(404, {"reason": f"unknown stream {stream_id!r}"})
    return _json(200, {"stream_id": stream_id, "state": sim.stream_state(stream_id), "callbacks": deliveries})


def sim_moderation(sim, match, body):
    data = _body_json(body)
    if data is None or set(data) - {"suggestion", "label", "score", "kind"}:
        return _json(400, {"reason": 'send {"suggestion": "Block"|"Review"|"Pass", "label"?, "score"?, "kind"?}'})
    stream_id = unquote(match["stream_id"])
    label = data.get("label", "")
    if not isinstance(label, str) or len(label) > 64:
        return _json(400, {"reason": "label must be text of at most 64 characters"})
    try:
        deliveries = sim.moderation(
            stream_id,
            suggestion=data.get("suggestion"),
            label=label,
            score=data.get("score"),
            kind=data.get("kind", "image"),
        )
    except ValueError as exc:
        return _json(400, {"reason": str(exc)})
    if deliveries is None:
        return _json(404, {"reason": f"unknown stream {stream_id!r}"})
    return _json(200, {"stream_id": stream_id, "callbacks": deliveries})


def sim_snapshot(sim, match, body):
    jpeg = sim.frame(unquote(match["stream_id"]))
    if jpeg is None:
        return _json(404, {"reason": "no frame of this stream yet"})
    return 200, "image/jpeg", jpeg


def sim_health(sim, match, body):
    """Override an online stream's health figures: {"fps": 12, "kbps": 400} (either or both)."""
    stream_id, data = unquote(match["stream_id"]), _body_json(body)
    figures = {name: data.get(name) for name in ("fps", "kbps") if data and name in data}
    if not figures or set(data) - {"fps", "kbps"}:
        return _json(400, {"reason": 'send {"fps": number, "kbps": number} (either or both, nothing else)'})
    bad = [name for name, value in figures.items() if type(value) not in (int, float) or not 0 <= value <= 100_000]
    if bad:
        return _json(400, {"reason": f"{', '.join(bad)} must be a number from 0 to 100000"})
    if not sim.set_health(stream_id, **figures):
        return _json(404, {"reason": f"stream {stream_id!r} is not online"})
    return _json(200, {"stream_id": stream_id, **figures})


def sim_exception(sim, match, body):
    """Send a push-exception callback (event 321) for an online stream: {"type", "count", "desc"} optional."""
    stream_id, data = unquote(match["stream_id"]), _body_json(body) or {}
    kwargs = {"exception_type": data.get("type", 3), "count": data.get("count", 1)}
    if type(kwargs["exception_type"]) is not int or type(kwargs["count"]) is not int:
        return _json(400, {"reason": "type and count must be whole numbers"})
    if isinstance(data.get("desc"), str):
        kwargs["desc"] = data["desc"][:200]
    deliveries = sim.push_exception(stream_id, **kwargs)
    if deliveries is None:
        return _json(404, {"reason": f"stream {stream_id!r} is not online"})
    return _json(200, {"stream_id": stream_id, "callbacks": deliveries})


def sim_faults(sim, match, body):
    data = _body_json(body)
    if data is None:
        return _json(400, {"reason": "send a JSON object of faults"})
    try:
        return _json(200, sim.set_faults(**data))
    except ValueError as exc:
        return _json(400, {"reason": str(exc)})


def sim_reset(sim, match, body):
    sim.reset()
    return _json(200, {"reset": True})


# nginx-rtmp's hooks (the ingest edge): their query names the edge's control URL.
EDGE_HOOKS = {"/sim/hooks/on_publish": edge.on_publish, "/sim/hooks/on_publish_done": edge.on_publish_done}

ROUTES = [
    ("POST", re.compile(r"/sim/publish"), sim_publish),
    ("POST", re.compile(r"/sim/streams/(?P<stream_id>[^/]+)/(?P<verb>stop|crash|record|screenshot)"), sim_stream),
    ("POST", re.compile(r"/sim/streams/(?P<stream_id>[^/]+)/moderation"), sim_moderation),
    ("GET", re.compile(r"/sim/snapshots/(?P<stream_id>[^/]+)/[0-9]+\.jpg"), sim_snapshot),
    ("POST", re.compile(r"/sim/streams/(?P<stream_id>[^/]+)/health"), sim_health),
    ("POST", re.compile(r"/sim/streams/(?P<stream_id>[^/]+)/exception"), sim_exception),
    ("GET", re.compile(r"/sim/state"), lambda sim, match, body: _json(200, sim.snapshot())),
    ("POST", re.compile(r"/sim/faults"), sim_faults),
    ("POST", re.compile(r"/sim/reset"), sim_reset),
]


class Handler(BaseHTTPRequestHandler):
    server_version = "livecloud-simulator"

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def _dispatch(self, method):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        sim = self.server.simulator
        if method == "POST" and url.path == "/":
            answer = api3.handle(sim, self.headers, body)
        elif method == "GET" and url.path == "/common_access":
            answer = legacy.handle(sim, dict(parse_qsl(url.query, keep_blank_values=True)))
        elif method == "POST" and url.path in EDGE_HOOKS:
            answer = _json(*EDGE_HOOKS[url.path](sim, url.query, body))
        else:
            answer = self._control(sim, method, url.path, body)
        self._send(*answer)

    def _control(self, sim, method, path, body):
        for route_method, pattern, view in ROUTES:
            match = pattern.fullmatch(path)
            if match and route_method == method:
                return view(sim, match, body)
            if match:
                return _json(405, {"reason": f"use {route_method}"})
        return _json(404, {"reason": "not found"})

    def _send(self, status, content_type, payload):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):
        # its log shares the console with the app's under `make run`: no legacy `sign` in it
        logger.debug("%s %s", self.address_string(), redact(format % args))


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, simulator: Simulator, host="127.0.0.1", port=0):
        super().__init__((host, port), Handler)
        self.simulator = simulator
        simulator.public_url = self.url

    def handle_error(self, request, client_address):
        """A client that hung up before its answer (a closed page, a timed-out call) is no error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    @property
    def url(self):
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        """Serve from a daemon thread (tests, benchmarks); `close()` stops it."""
        threading.Thread(target=self.serve_forever, name="livecloud-simulator", daemon=True).start()
        return self

    def close(self):
        self.shutdown()
        self.server_close()
