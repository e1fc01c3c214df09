"""The simulator's side of the development ingest edge (nginx-rtmp, see `livecloud.edge`).

nginx asks `POST /sim/hooks/on_publish` before it lets a push in and tells
`POST /sim/hooks/on_publish_done` when it ends, with a form body: its own fields (app, name,
tcurl, clientid, ...) followed by the push URL's query (txSecret, txTime, extra params). The
push is validated exactly as `POST /sim/publish` validates a push URL — 2xx lets it in, 403
refuses it — and the same signed callbacks follow. Forbid and drop cut a real push through the
edge's control URL, which the edge names in its hook URL (`?control=...`).
"""

import logging
from dataclasses import dataclass
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import requests

logger = logging.getLogger("livecloud.sim")

CONTROL_TIMEOUT = 3
# What nginx-rtmp adds to a hook's form; everything else came from the push URL's query.
NGINX_FIELDS = {"app", "flashver", "swfurl", "tcurl", "pageurl", "addr", "clientid", "call", "name", "type"}


@dataclass(frozen=True)
class Publisher:
    """One push held by an edge: enough to cut exactly that push later."""

    control_url: str
    app: str
    stream_id: str
    client_id: str

    def disconnect(self) -> bool:
        """Drop this push at the edge; False if the edge could not be reached or no longer had it."""
        try:
            response = requests.get(
                f"{self.control_url}/drop/publisher",
                params={"app": self.app, "name": self.stream_id, "clientid": self.client_id},
                timeout=CONTROL_TIMEOUT,
            )
        except requests.RequestException as exc:
            logger.warning("edge at %s unreachable, push of %s not cut: %s", self.control_url, self.stream_id, exc)
            return False
        return response.ok and response.text.strip() not in ("", "0")


def parse_hook(query: str, body: bytes) -> tuple[Publisher, str]:
    """The publisher a hook is about, and the push URL it was opened with."""
    pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    fields = dict(pairs)
    control_url = parse_qs(query).get("control", [""])[0]
    publisher = Publisher(control_url, fields.get("app", ""), fields.get("name", ""), fields.get("clientid", ""))
    stream_param = urlencode([(k, v) for k, v in pairs if k not in NGINX_FIELDS])
    domain = urlsplit(fields.get("tcurl", "")).netloc
    return publisher, f"rtmp://{domain}/{publisher.app}/{publisher.stream_id}?{stream_param}"


def on_publish(sim, query, body):
    """(status, answer): 200 lets nginx take the push, 403 makes it refuse."""
    publisher, push_url = parse_hook(query, body)
    previous = sim.edge_publisher(publisher.stream_id)
    status, answer = sim.publish(push_url, publisher=publisher)
    if status == 200 and previous and previous != publisher:
        # Tencent lets a new push replace the current one; nginx would refuse the newcomer instead.
        previous.disconnect()
    if status != 200:
        logger.info("edge push of %r refused: %s", publisher.stream_id, answer.get("reason"))
    return status, answer


def on_publish_done(sim, query, body):
    publisher, _ = parse_hook(query, body)
    return 200, {"stream_id": publisher.stream_id, "callbacks": sim.end_edge_push(publisher)}
