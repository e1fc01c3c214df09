"""The development ingest edge: nginx with the RTMP module, standing in for Tencent's edge.

The config is rendered from ``nginx.conf.template`` into a runtime directory (pid, logs, temp
files and HLS fragments all live there; the system's nginx config is never read) and nginx runs
in the foreground with ``-p <runtime dir> -c <runtime dir>/nginx.conf``.
"""

import getpass
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.template import Context, Engine

RTMP_MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")
INSTALL_HINT = "apt-get install nginx libnginx-mod-rtmp"
TEMPLATE = Path(__file__).with_name("nginx.conf.template")


def nginx_binary() -> str | None:
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")


def missing() -> str | None:
    """Why the edge cannot run here, or None when nginx and its RTMP module are installed."""
    if not nginx_binary():
        return f"nginx is not installed ({INSTALL_HINT})"
    if not RTMP_MODULE.exists():
        return f"nginx's RTMP module is not installed ({INSTALL_HINT})"
    return None


def domain_port(domain: str, default: int) -> int:
    return urlsplit(f"//{domain}").port or default


@dataclass(frozen=True)
class EdgeConfig:
    runtime_dir: Path
    rtmp_port: int
    http_port: int
    hooks_url: str
    host: str = "127.0.0.1"
    app_name: str = "live"
    error_log: str = "stderr"

    @property
    def control_url(self) -> str:
        return f"http://{self.host}:{self.http_port}/control"

    @property
    def conf_path(self) -> Path:
        return self.runtime_dir / "nginx.conf"

    def push_base(self) -> str:
        return f"rtmp://{self.host}:{self.rtmp_port}/{self.app_name}"

    def hls_url(self, stream_id: str) -> str:
        return f"http://{self.host}:{self.http_port}/{self.app_name}/{stream_id}.m3u8"


def from_settings(runtime_dir: Path | None = None, **overrides) -> EdgeConfig:
    """The edge that the issued URLs point at: RTMP on the push domain's port, HTTP on the play
    domain's. The runtime dir defaults to `.edge/<RTMP port>/`, so stacks on other ports keep apart."""
    endpoint = (settings.TENCENT_LIVE_ENDPOINT or "http://127.0.0.1:8100").rstrip("/")
    rtmp_port = domain_port(settings.TENCENT_LIVE_PUSH_DOMAIN, 1935)
    values = {
        "runtime_dir": Path(runtime_dir or settings.BASE_DIR / ".edge" / str(rtmp_port)),
        "rtmp_port": rtmp_port,
        "http_port": domain_port(settings.TENCENT_LIVE_PLAY_DOMAIN, 80),
        "hooks_url": f"{endpoint}/sim/hooks",
        "app_name": settings.TENCENT_LIVE_APP_NAME,
    }
    values.update(overrides)
    return EdgeConfig(**values)


def render(config: EdgeConfig) -> str:
    context = {
        **config.__dict__,
        "control_url": config.control_url,
        "rtmp_module": RTMP_MODULE,
        # Run as root, nginx would hand its worker to "nobody", who cannot write the runtime dir.
        "user": getpass.getuser() if os.geteuid() == 0 else "",
    }
    template = Engine(autoescape=False).from_string(TEMPLATE.read_text())
    return template.render(Context(context, autoescape=False))


def prepare(config: EdgeConfig) -> list[str]:
    """Write a fresh runtime dir (old fragments dropped) and return the nginx command line."""
    for sub in ("hls", "tmp"):
        shutil.rmtree(config.runtime_dir / sub, ignore_errors=True)
    (config.runtime_dir / "hls" / config.app_name).mkdir(parents=True)
    (config.runtime_dir / "tmp").mkdir()
    config.conf_path.write_text(render(config))
    return [nginx_binary(), "-p", str(config.runtime_dir), "-c", str(config.conf_path), "-e", config.error_log]
