"""The simulator's state and behaviour: streams, bans, push validation, callbacks, faults.

Everything lives in memory, guarded by one lock. Callbacks are signed like Tencent's
(`sign = md5(callback_key + t)`, `t` = event time + 600 s) and POSTed as JSON.
"""

import json
import logging
import random
import shutil
import subprocess
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import requests

from ..signing import md5_sign
from . import edge

logger = logging.getLogger("livecloud.sim")

CALLBACK_TTL = 600
CALLBACK_TIMEOUT = 5
DEFAULT_BAN = 7 * 86400
MAX_BAN = 90 * 86400
STOPPED_BY_CLIENT = (1, "recv rtmp deleteStream")
DROPPED = (21, "drop request from the customer")
FORBIDDEN = (21, "forbid request from the customer")
REPLACED = (21, "a new push replaced this one")
SNAPSHOT_TICK = 0.25  # how often the snapshot thread looks for streams due a frame
SNAPSHOT_TIMEOUT = 15
SUGGESTIONS = ("Block", "Review", "Pass")
PLAUSIBLE_FPS, PLAUSIBLE_KBPS = 30, 2500


@dataclass
class SimConfig:
    secret_id: str
    secret_key: str
    appid: str
    api_key: str
    push_key: str
    callback_key: str
    callback_url: str
    push_domain: str
    app_name: str
    play_domain: str = ""  # the ingest edge's HLS, where real frames are taken from
    snapshot_interval: int = 0  # seconds between real frames of each edge push; 0: none

    @classmethod
    def from_settings(cls, settings):
        return cls(
            secret_id=settings.TENCENT_SECRET_ID,
            secret_key=settings.TENCENT_SECRET_KEY,
            appid=str(settings.TENCENT_LIVE_APPID),
            api_key=settings.TENCENT_LIVE_API_KEY,
            push_key=settings.TENCENT_LIVE_PUSH_KEY,
            callback_key=settings.TENCENT_LIVE_CALLBACK_KEY,
            callback_url=settings.SIM_CALLBACK_URL,
            push_domain=settings.TENCENT_LIVE_PUSH_DOMAIN,
            app_name=settings.TENCENT_LIVE_APP_NAME,
            play_domain=settings.TENCENT_LIVE_PLAY_DOMAIN,
            snapshot_interval=settings.SIM_SNAPSHOT_INTERVAL,
        )


@dataclass
class Faults:
    api_error_rate: float = 0.0  # share of API calls answered with `api_error_code`
    api_error_code: str | int = "InternalError"  # a Tencent code, or an HTTP status such as 502
    api_error_actions: list[str] = field(default_factory=list)  # the actions that fail; empty: all
    api_delay_ms: int = 0  # delay before every API answer
    online_list_drop_rate: float = 0.0  # share of online streams the online-list calls leave out (a glitch)
    callback_drop_rate: float = 0.0  # share of callbacks never sent
    callback_duplicate: bool = False  # send every callback twice


@dataclass
class Stream:
    stream_id: str
    app: str
    domain: str
    active: bool = False
    sequence: str = ""
    stream_param: str = ""
    published_at: float = 0.0
    forbidden_until: float | None = None
    forbid_reason: str = ""
    publisher: object = None  # an ingest edge's real push (`edge.Publisher`), None for pretend pushes
    health: dict = field(default_factory=dict)  # {"fps", "kbps"} set by POST /sim/streams/{id}/health

    def forbidden(self, now):
        return self.forbidden_until is not None and self.forbidden_until > now

    def state(self, now):
        if self.forbidden(now):
            return "forbid"
        return "active" if self.active else "inactive"


def iso(ts, *, ms=False):
    if ts is None:
        return None
    moment = datetime.fromtimestamp(ts, UTC)
    return (
        moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        if ms
        else moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    )


class Simulator:
    def __init__(self, config: SimConfig):
        self.config = config
        self.lock = threading.RLock()
        self.random = random.Random()
        self.public_url = ""  # where this simulator is served (set by SimulatorServer), for snapshot URLs
        self.reset()
        threading.Thread(target=self._snapshot_loop, name="sim-snapshots", daemon=True).start()

    def reset(self):
        with self.lock:
            self.streams: dict[str, Stream] = {}
            self.calls: list[dict] = []
            self.callbacks: list[dict] = []
            self.faults = Faults()
            self.frames: dict[str, tuple[int, bytes]] = {}  # stream id → (time taken, JPEG) of its latest frame
            self.frame_tried: dict[str, float] = {}

    def set_faults(self, **values):
        """Change some fault knobs (see `Faults`); unknown names or bad values raise ValueError."""
        unknown = set(values) - set(Faults.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown faults: {', '.join(sorted(unknown))}")
        with self.lock:
            faults = asdict(self.faults) | values
            for name in ("api_error_rate", "callback_drop_rate", "online_list_drop_rate"):
                if not isinstance(faults[name], int | float) or not 0 <= faults[name] <= 1:
                    raise ValueError(f"{name} must be a number from 0 to 1")
            if not isinstance(faults["api_delay_ms"], int) or faults["api_delay_ms"] < 0:
                raise ValueError("api_delay_ms must be a whole number of milliseconds")
            actions = faults["api_error_actions"]
            if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
                raise ValueError("api_error_actions must be a list of action (or legacy interface) names")
            code = faults["api_error_code"]
            faults["api_error_code"] = int(code) if str(code).isdigit() else str(code)
            faults["callback_duplicate"] = bool(faults["callback_duplicate"])
            self.faults = Faults(**faults)
            return asdict(self.faults)

    # --- what a test or an operator sees -----------------------------------------------------

    def snapshot(self):
        now = time.time()
        with self.lock:
            return {
                "streams": {
                    s.stream_id: {
                        "state": s.state(now),
                        "sequence": s.sequence,
                        "forbidden_until": iso(s.forbidden_until),
                    }
                    for s in self.streams.values()
                },
                "calls": list(self.calls),
                "callbacks": list(self.callbacks),
                "faults": asdict(self.faults),
            }

    def record_call(self, action, params, result):
        with self.lock:
            self.calls.append({"action": action, "params": params, "at": iso(time.time(), ms=True), "result": result})

    def api_fault(self, action):
        """(delay in seconds, injected error code or None) for one call of `action`."""
        with self.lock:
            faults = self.faults
            failing = faults.api_error_rate > 0 and self.random.random() < faults.api_error_rate
            failing = failing and (not faults.api_error_actions or action in faults.api_error_actions)
            return faults.api_delay_ms / 1000, faults.api_error_code if failing else None

    # --- the edge: pushes ----------------------------------------------------------------------

    def validate_push(self, app, stream_id, tx_secret, tx_time) -> tuple[bool, str]:
        """Would Tencent's edge accept this push? (ok, reason). Reusable by any ingest hook."""
        if app != self.config.app_name:
            return False, f"unknown app {app!r}"
        if not stream_id or not stream_id.replace("_", "").replace("-", "").isalnum():
            return False, "invalid stream name"
        if not tx_secret or not tx_time:
            return False, "missing txSecret or txTime"
        try:
            expires = int(tx_time, 16)
        except ValueError:
            return False, "txTime is not a hex Unix time"
        if expires < time.time():
            return False, "txTime expired"
        if md5_sign(self.config.push_key, f"{stream_id}{tx_time}") != tx_secret.lower():
            return False, "txSecret does not match (auth failed)"
        with self.lock:
            stream = self.streams.get(stream_id)
            if stream and stream.forbidden(time.time()):
                return False, "stream is forbidden"
        return True, ""

    def publish(self, push_url, *, publisher=None) -> tuple[int, dict]:
        """Validate a push URL like the edge and start the stream: (HTTP status, body).
        `publisher`: the ingest edge's handle when the push is real (see `edge.py`)."""
        try:
            url = urlsplit(push_url)
            app, stream_id = url.path.strip("/").split("/")
        except (ValueError, AttributeError):
            return 400, {"reason": "push_url must look like rtmp://domain/app/stream?txSecret=…&txTime=…"}
        query = parse_qs(url.query)
        if url.netloc != self.config.push_domain:
            return 403, {"reason": f"unknown push domain {url.netloc!r}"}
        ok, reason = self.validate_push(app, stream_id, query.get("txSecret", [""])[0], query.get("txTime", [""])[0])
        if not ok:
            return 403, {"reason": reason}
        stream, deliveries = self.start_stream(
            app, stream_id, stream_param=url.query, domain=url.netloc, publisher=publisher
        )
        return 200, {"stream_id": stream_id, "sequence": stream.sequence, "callbacks": deliveries}

    def start_stream(self, app, stream_id, *, stream_param="", domain=None, publisher=None):
        """A validated push begins: a new sequence, event_type 1 (after a stop for a replaced push)."""
        with self.lock:
            stream = self._stream(stream_id, app, domain)
            replaced = self._cut(stream, *REPLACED) if stream.active else None
            stream.active, stream.app, stream.stream_param = True, app, stream_param
            stream.publisher, stream.health = publisher, {}
            stream.sequence = str(self.random.randrange(10**18, 10**19))
            stream.published_at = time.time()
            events = [e for e in (replaced, self._push_event(stream, 1)) if e]
        return stream, self.deliver(events)

    def seed_online(self, stream_ids, app=None):
        """Put streams online without validation or callbacks (benchmarks)."""
        now = time.time()
        with self.lock:
            for stream_id in stream_ids:
                stream = self._stream(stream_id, app, None)
                stream.active, stream.published_at = True, now
                stream.sequence = str(self.random.randrange(10**18, 10**19))

    def stop(self, stream_id, *, callback=True):
        """The streamer stops (event_type 0), or the stream silently vanishes (`callback=False`)."""
        with self.lock:
            stream = self.streams.get(stream_id)
            if stream is None:
                return None
            event = self._cut(stream, *STOPPED_BY_CLIENT)
        return self.deliver([event] if event and callback else [])

    def recording(self, stream_id):
        with self.lock:
            stream = self.streams.get(stream_id)
            if stream is None:
                return None
            end = int(time.time())
            start = int(stream.published_at or end)
            file_id = str(self.random.randrange(10**15, 10**16))
            event = self._event(stream, 100, event_time=end)
            event.update(
                file_id=file_id,
                file_format="hls",
                start_time=start,
                end_time=end,
                duration=end - start,
                file_size=1_000_000 + 250_000 * (end - start),
                video_url=f"http://{self.config.appid}.vod2.myqcloud.com/sim/{file_id}/{stream_id}.m3u8",
            )
        return self.deliver([event])

    def screenshot(self, stream_id):
        with self.lock:
            stream = self.streams.get(stream_id)
            if stream is None:
                return None
            now = int(time.time())
            pic_url = f"/{stream_id}/{stream_id}-screenshot-{now}-1280x720.jpg"
            event = self._event(stream, 200, event_time=now)
            event.update(
                create_time=now,
                file_size=30670,
                width=1280,
                height=720,
                pic_url=pic_url,
                pic_full_url=f"http://sim-{self.config.appid}.cos.ap-guangzhou.myqcloud.com{pic_url}",
            )
        return self.deliver([event])

    def moderation(self, stream_id, *, suggestion, label="", score=None, kind="image"):
        """Tencent's moderation verdict on the stream: event 317 (image, camelCase `streamId`, the
        latest frame as `img`) or 315 (audio). None for an unknown stream."""
        if suggestion not in SUGGESTIONS:
            raise ValueError(f"suggestion must be one of {', '.join(SUGGESTIONS)}")
        if score is not None and (type(score) is not int or not 0 <= score <= 100):
            raise ValueError("score must be a whole number from 0 to 100")
        if kind not in ("image", "audio"):
            raise ValueError("kind must be image or audio")
        with self.lock:
            stream = self.streams.get(stream_id)
            if stream is None:
                return None
            now = int(time.time())
            event = self._event(stream, 317 if kind == "image" else 315, event_time=now)
            verdict = {"suggestion": suggestion, "label": label, "score": [score] if score is not None else []}
            if kind == "image":
                del event["stream_id"], event["channel_id"], event["event_time"]
                event.update(streamId=stream_id, channelId=stream_id, img=self._frame_url(stream_id, now))
                event.update(screenshotTime=now, sendTime=now, subLabel="", type=[1] if label else [], **verdict)
            else:
                event.update(asr_text=f"(speech flagged as {label or suggestion})", duration=15, **verdict)
        return self.deliver([event])

    # --- real frames of edge pushes (the screenshot template) ----------------------------------

    def frame(self, stream_id):
        """The latest real frame of the stream (JPEG bytes), or None."""
        with self.lock:
            taken = self.frames.get(stream_id)
        return taken[1] if taken else None

    def take_snapshot(self, stream_id) -> bool:
        """A frame of the stream's HLS at the edge (ffmpeg), kept and announced by event 200."""
        with self.lock:
            stream = self.streams.get(stream_id)
            if stream is None or not stream.active or not self.config.play_domain:
                return False
            hls = f"http://{self.config.play_domain}/{stream.app}/{stream_id}.m3u8"
        jpeg = grab_frame(hls)
        if not jpeg:
            return False
        now = int(time.time())
        with self.lock:
            self.frames[stream_id] = (now, jpeg)
            stream = self.streams[stream_id]
            event = self._event(stream, 200, event_time=now)
            width, height = jpeg_size(jpeg)
            url = self._frame_url(stream_id, now)
            event.update(create_time=now, file_size=len(jpeg), width=width, height=height)
            event.update(pic_url=urlsplit(url).path, pic_full_url=url)
        self.deliver([event])
        return True

    def _frame_url(self, stream_id, at):
        if self.public_url and stream_id in self.frames:
            return f"{self.public_url}/sim/snapshots/{stream_id}/{at}.jpg"
        return f"http://sim-{self.config.appid}.cos.ap-guangzhou.myqcloud.com/{stream_id}/{stream_id}-{at}.jpg"

    def _due_snapshots(self, interval):
        now = time.monotonic()
        with self.lock:
            due = [
                s.stream_id
                for s in self.streams.values()
                if s.active and s.publisher is not None and now - self.frame_tried.get(s.stream_id, 0) >= interval
            ]
            for stream_id in due:
                self.frame_tried[stream_id] = now
        return due

    def _snapshot_loop(self):
        while True:
            time.sleep(SNAPSHOT_TICK)
            interval = self.config.snapshot_interval
            for stream_id in self._due_snapshots(interval) if interval else []:
                try:
                    self.take_snapshot(stream_id)
                except Exception:  # keep taking frames of the other streams
                    logger.exception("snapshot of %s failed", stream_id)

    # --- the cloud API's effects ---------------------------------------------------------------

    def listed_online(self):
        """The online streams as the online-list calls report them: `online_list_drop_rate` of
        them left out, as in a glitch of the cloud (the per-stream state stays right)."""
        with self.lock:
            rate = self.faults.online_list_drop_rate
            return [s for s in self.streams.values() if s.active and not (rate and self.random.random() < rate)]

    def push_info(self):
        """Health figures of every online stream (DescribeLiveStreamPushInfoList, Get_LivePushStat).

        A real push through the ingest edge reports what nginx-rtmp measures (`edge.push_stats`);
        a pretend push reports plausible figures (30 fps, about 2,500 kbit/s at 1280x720, as
        declared). `POST /sim/streams/{id}/health` overrides fps and kbps (a degraded stream).
        """
        with self.lock:
            streams = [(s.stream_id, s.publisher, dict(s.health), s.published_at) for s in self.listed_online()]
        infos = []
        for stream_id, publisher, override, published_at in streams:
            figures = edge.push_stats(publisher) if publisher else self._plausible()
            figures.update(override)
            infos.append({"stream_id": stream_id, "published_at": published_at, **figures})
        return infos

    def _plausible(self):
        with self.lock:
            kbps = round(PLAUSIBLE_KBPS * self.random.uniform(0.97, 1.03))
        return {
            "fps": PLAUSIBLE_FPS,
            "kbps": kbps,
            "resolution": "1280*720",
            "declared_fps": PLAUSIBLE_FPS,
            "declared_kbps": PLAUSIBLE_KBPS,
        }

    def set_health(self, stream_id, **figures):
        """Override an online stream's fps / kbps; False for a stream not online."""
        with self.lock:
            stream = self.streams.get(stream_id)
            if stream is None or not stream.active:
                return False
            stream.health.update(figures)
            return True

    def push_exception(self, stream_id, *, exception_type=3, count=1, desc="frame interval too large"):
        """Event 321 (a push exception) for an online stream; None when it is not online."""
        with self.lock:
            stream = self.streams.get(stream_id)
            if stream is None or not stream.active:
                return None
            now = time.time()
            event = self._event(stream, 321, event_time=int(now))
            del event["event_time"]
            event.update(
                sequence=stream.sequence,
                data_time=int(now * 1000),
                report_interval=60000,
                abnormal_event={
                    "type": exception_type,
                    "count": count,
                    "detail": [{"desc": desc, "occur_time": int(now * 1000)}],
                    "type_desc_en": desc,
                },
            )
        return self.deliver([event])

    def knows(self, stream_id):
        with self.lock:
            return stream_id in self.streams

    def stream_state(self, stream_id):
        with self.lock:
            stream = self.streams.get(stream_id)
            return stream.state(time.time()) if stream else "inactive"

    def forbid(self, stream_id, *, until: float, reason="", app=None, domain=None):
        with self.lock:
            stream = self._stream(stream_id, app, domain)
            stream.forbidden_until, stream.forbid_reason = until, reason
            event = self._cut(stream, *FORBIDDEN)
            publisher, stream.publisher = stream.publisher, None
        if publisher:
            publisher.disconnect()
        self.deliver_later([event] if event else [])

    def resume(self, stream_id, *, app=None, domain=None):
        with self.lock:
            stream = self._stream(stream_id, app, domain)
            stream.forbidden_until, stream.forbid_reason = None, ""

    def drop(self, stream_id):
        with self.lock:
            stream = self.streams.get(stream_id)
            if stream is None:
                return
            event = self._cut(stream, *DROPPED)
            publisher, stream.publisher = stream.publisher, None
        if publisher:
            publisher.disconnect()
        self.deliver_later([event] if event else [])

    # --- the ingest edge's real pushes (see edge.py) -------------------------------------------

    def edge_publisher(self, stream_id):
        with self.lock:
            stream = self.streams.get(stream_id)
            return stream.publisher if stream else None

    def end_edge_push(self, publisher) -> list[dict]:
        """The edge says `publisher`'s push ended: event_type 0 if it was still the stream's push
        (not already cut by a drop, a forbid or a newer push)."""
        with self.lock:
            stream = self.streams.get(publisher.stream_id)
            if stream is None or stream.publisher != publisher:
                return []
            stream.publisher = None
            event = self._cut(stream, *STOPPED_BY_CLIENT)
        return self.deliver([event] if event else [])

    def _stream(self, stream_id, app, domain):
        if stream_id not in self.streams:
            self.streams[stream_id] = Stream(stream_id, app or self.config.app_name, domain or self.config.push_domain)
        return self.streams[stream_id]

    def _cut(self, stream, errcode, errmsg):
        """Take an active stream offline; its event_type 0, or None when it was not active."""
        if not stream.active:
            return None
        stream.active = False
        event = self._push_event(stream, 0, errcode=errcode, errmsg=errmsg)
        event["push_duration"] = str(int((time.time() - stream.published_at) * 1000))
        return event

    # --- callbacks -----------------------------------------------------------------------------

    def _event(self, stream, event_type, *, event_time=None):
        event_time = event_time or int(time.time())
        t = event_time + CALLBACK_TTL
        return {
            "app": stream.domain,
            "appid": int(self.config.appid) if self.config.appid.isdigit() else self.config.appid,
            "appname": stream.app,
            "stream_id": stream.stream_id,
            "channel_id": stream.stream_id,
            "event_type": event_type,
            "event_time": event_time,
            "stream_param": stream.stream_param,
            "t": t,
            "sign": md5_sign(self.config.callback_key, t),
        }

    def _push_event(self, stream, event_type, *, errcode=0, errmsg="ok"):
        event = self._event(stream, event_type)
        event.update(
            sequence=stream.sequence,
            errcode=errcode,
            errmsg=errmsg,
            node="127.0.0.1",
            user_ip="127.0.0.1",
            set_id=2,
            idc_id=34,
            width=1280 if event_type == 1 else 0,
            height=720 if event_type == 1 else 0,
        )
        return event

    def deliver(self, events) -> list[dict]:
        """POST each event to the callback URL now (faults permitting); the delivery records."""
        records = []
        for event in events:
            with self.lock:
                faults = self.faults
                dropped = faults.callback_drop_rate > 0 and self.random.random() < faults.callback_drop_rate
            copies = 0 if dropped else (2 if faults.callback_duplicate else 1)
            results = [self._post(event) for _ in range(copies)]
            record = {
                "event_type": event["event_type"],
                "stream_id": event.get("stream_id") or event.get("streamId"),
                "sequence": event.get("sequence", ""),
                "at": iso(time.time(), ms=True),
                "results": results or ["dropped"],
            }
            with self.lock:
                self.callbacks.append(record)
            records.append(record)
        return records

    def deliver_later(self, events):
        """Deliver from another thread, like Tencent after an API call, so the caller is not held up."""
        if events:
            threading.Thread(target=self.deliver, args=(events,), daemon=True).start()

    def _post(self, event):
        if not self.config.callback_url:
            return "not sent: no callback URL"
        try:
            response = requests.post(
                self.config.callback_url,
                data=json.dumps(event),
                headers={"Content-Type": "application/json"},
                timeout=CALLBACK_TIMEOUT,
            )
        except requests.RequestException as exc:
            return f"error: {exc.__class__.__name__}"
        return response.status_code


_warned = []  # the missing ffmpeg is said once, not at every interval


def grab_frame(hls_url) -> bytes | None:
    """One JPEG frame of a live HLS stream, by ffmpeg; None when there is none (yet)."""
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        if not _warned:
            logger.warning("ffmpeg is not installed: no snapshots of edge pushes (apt-get install ffmpeg)")
            _warned.append(True)
        return None
    command = [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-i", hls_url]
    command += ["-frames:v", "1", "-q:v", "5", "-f", "image2", "-c:v", "mjpeg", "pipe:1"]
    try:
        done = subprocess.run(command, capture_output=True, timeout=SNAPSHOT_TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None
    return done.stdout if done.returncode == 0 and done.stdout.startswith(b"\xff\xd8") else None


def jpeg_size(jpeg: bytes) -> tuple[int, int]:
    """(width, height) from a JPEG's start-of-frame marker; (0, 0) if it has none."""
    i = 2
    while i + 9 < len(jpeg) and jpeg[i] == 0xFF:
        marker, length = jpeg[i + 1], int.from_bytes(jpeg[i + 2 : i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return int.from_bytes(jpeg[i + 7 : i + 9], "big"), int.from_bytes(jpeg[i + 5 : i + 7], "big")
        i += 2 + length
    return 0, 0
