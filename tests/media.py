"""Real streams in tests (imported by conftest.py): the ingest edge and an ffmpeg pusher.

`ingest_edge`: nginx with the RTMP module (livecloud.edge) on free loopback ports, its hooks
going to the `simulator`; the push, play and RTMP play domains in the settings (and the
simulator's push domain) point at it, so the URLs the API issues reach it. Its value is the
`Edge`: `.config` (an `EdgeConfig`), `.log()` returns nginx's error log for failure messages.

`Push(url)` runs ffmpeg pushing a test pattern (testsrc + a sine tone, H.264 + AAC) in real time.
"""

import shutil
import socket
import subprocess
import time

import pytest

from livecloud import edge

FFMPEG = shutil.which("ffmpeg") or "ffmpeg"
MISSING_HINT = "run scripts/ensure_media.sh (make test does)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening(port) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Edge:
    def __init__(self, config, process):
        self.config, self.process = config, process

    def log(self) -> str:
        path = self.config.runtime_dir / "error.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def start_edge(runtime_dir, attempts=3) -> Edge:
    """nginx on two free ports; a port taken between picking and binding is retried on others."""
    for _ in range(attempts):
        config = edge.from_settings(runtime_dir, rtmp_port=free_port(), http_port=free_port())
        config = edge.EdgeConfig(**{**config.__dict__, "error_log": str(runtime_dir / "error.log")})
        process = subprocess.Popen(edge.prepare(config), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        started = Edge(config, process)
        deadline = time.monotonic() + 10
        while process.poll() is None and time.monotonic() < deadline:
            if listening(config.rtmp_port) and listening(config.http_port):
                return started
            time.sleep(0.05)
        process.kill()
        process.wait()
    pytest.fail(f"nginx did not start:\n{started.log()}")


@pytest.fixture
def ingest_edge(simulator, settings, tmp_path):
    reason = edge.missing() or (None if shutil.which("ffmpeg") else "ffmpeg is not installed")
    if reason:
        pytest.fail(f"{reason}: {MISSING_HINT}")
    started = start_edge(tmp_path / "edge")
    settings.TENCENT_LIVE_PUSH_DOMAIN = f"127.0.0.1:{started.config.rtmp_port}"
    settings.TENCENT_LIVE_RTMP_PLAY_DOMAIN = settings.TENCENT_LIVE_PUSH_DOMAIN
    settings.TENCENT_LIVE_PLAY_DOMAIN = f"127.0.0.1:{started.config.http_port}"
    settings.TENCENT_LIVE_PLAY_SCHEME = "http"
    simulator.configure()  # the simulator's push domain, from the settings above
    yield started
    started.process.terminate()
    try:
        started.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        started.process.kill()
        started.process.wait()


class Push:
    """ffmpeg pushing a small test pattern to `url` at real-time speed until stopped or cut."""

    def __init__(self, url):
        self.url = url
        self.process = subprocess.Popen(
            [FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-re"]
            + ["-f", "lavfi", "-i", "testsrc=size=640x360:rate=25", "-f", "lavfi", "-i", "sine=frequency=440"]
            + ["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25", "-pix_fmt", "yuv420p"]
            + ["-c:a", "aac", "-b:a", "64k", "-f", "flv", url],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def ended(self, timeout=15) -> int | None:
        """ffmpeg's exit code once it exits (non-zero: refused or cut off), None if it still runs."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def errors(self) -> str:
        return "" if self.running else self.process.stderr.read()

    def stop(self):
        """The streamer stops: ffmpeg closes the stream cleanly."""
        if self.running:
            self.process.terminate()
        self.ended()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.running:
            self.process.kill()
        self.process.wait()
        self.process.stderr.close()
