"""The simulator's side of the development ingest edge (nginx-rtmp, see `livecloud.edge`).

nginx asks `POST /sim/hooks/on_publish` before it lets a push in and tells
`POST /sim/hooks/on_publish_done` when it ends, with a form body: its own fields (app, name,
tcurl, clientid, ...) followed by the push URL's query (txSecret, txTime, extra params). The
push is validated exactly as `POST /sim/publish` validates a push URL — 2xx lets it in, 403
refuses it — and the same signed callbacks follow. Forbid and drop cut a real push through the
edge's control URL, which the edge names in its hook URL (`?control=...`).
"""

import logging
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import parse_qs, parse_qsl, urlencode, urljoin, urlsplit

import requests

logger = logging.getLogger("livecloud.sim")

CONTROL_TIMEOUT = 3
PROBE_TIMEOUT = 5
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


def push_stats(publisher: Publisher) -> dict:
    """What the edge measures of a real push, shaped like the simulator's push info.

    From nginx-rtmp's statistics page (`/stat`): the video bitrate it receives (`bw_video`), the
    resolution and the frame rate the encoder declared (`meta`). nginx-rtmp counts no frames, so
    the frame rate received is measured on the newest complete HLS fragment the edge cut from the
    push (ffprobe: video packets over their time span). A figure that cannot be had is None.
    """
    base = publisher.control_url.rsplit("/control", 1)[0]
    figures = {"fps": None, "kbps": None, "resolution": "", "declared_fps": None, "declared_kbps": None}
    stream = _stat_stream(base, publisher)
    if stream is not None:
        bw_video = _number(stream.findtext("bw_video"))
        figures["kbps"] = round(bw_video / 1000) if bw_video else None
        width, height = stream.findtext("meta/video/width"), stream.findtext("meta/video/height")
        if width and height and width.isdigit() and height.isdigit():
            figures["resolution"] = f"{width}*{height}"
        figures["declared_fps"] = _number(stream.findtext("meta/video/frame_rate")) or None
    figures["fps"] = _fragment_fps(f"{base}/{publisher.app}/{publisher.stream_id}.m3u8")
    return figures


def _stat_stream(base, publisher):
    try:
        response = requests.get(f"{base}/stat", timeout=CONTROL_TIMEOUT)
        root = ET.fromstring(response.content) if response.ok else None
    except (requests.RequestException, ET.ParseError) as exc:
        logger.warning("edge statistics at %s unreadable: %s", base, exc)
        return None
    for application in root.iter("application") if root is not None else ():
        if application.findtext("name") == publisher.app:
            for stream in application.iter("stream"):
                if stream.findtext("name") == publisher.stream_id:
                    return stream
    return None


def _fragment_fps(playlist_url):
    """Frames per second of the newest complete HLS fragment, or None."""
    ffprobe = shutil.which("ffprobe")
    try:
        playlist = requests.get(playlist_url, timeout=CONTROL_TIMEOUT)
    except requests.RequestException:
        return None
    fragments = [line for line in playlist.text.splitlines() if line and not line.startswith("#")]
    if not ffprobe or not playlist.ok or not fragments:
        return None
    command = [ffprobe, "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time", "-of", "csv=p=0"]
    try:
        probe = subprocess.run(
            [*command, urljoin(playlist_url, fragments[-1])], capture_output=True, text=True, timeout=PROBE_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        return None
    times = sorted(
        t for t in (_number(line.strip().rstrip(",")) for line in probe.stdout.splitlines()) if t is not None
    )
    if len(times) < 2 or times[-1] <= times[0]:
        return None
    return round((len(times) - 1) / (times[-1] - times[0]), 1)


def _number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None
