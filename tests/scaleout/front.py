"""The shipped production front (deploy/) on this machine: deploy/nginx/liveroom.conf rendered onto
free ports and a temporary directory, with a certificate made here, in front of web nodes
started with deploy/Procfile's `web` command (granian). Used by the tests and by `make bench`."""

import os
import re
import subprocess
from pathlib import Path

from .procs import ROOT, free_port, wait_for

DEPLOY = ROOT / "deploy"


def start_node(procs, name, env, workers=2):
    """A web node exactly as deploy/Procfile starts it (PORT, WEB_CONCURRENCY set here)."""
    return procs.web(name, env, workers=workers)


def make_certificate(directory: Path):
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def render_site(directory: Path, node_ports, http_port, https_port, callback_allow="allow all;\n"):
    """deploy/nginx/liveroom.conf with its addresses and paths replaced; returns nginx.conf's path."""
    cert, key = make_certificate(directory)
    allow = directory / "callback-allow.conf"
    allow.write_text(callback_allow)
    site = (DEPLOY / "nginx" / "liveroom.conf").read_text()
    upstream = "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n" for p in node_ports)
    site, found = re.subn(r"(    server 127\.0\.0\.1:\d+ max_fails=1 fail_timeout=5s;\n)+", upstream, site)
    assert found == 1, "the upstream block of liveroom.conf changed: update tests/scaleout/front.py"
    replacements = {
        "    listen [::]:80;\n": "",
        "    listen [::]:443 ssl http2;\n": "",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "/etc/ssl/liveroom/fullchain.pem": str(cert),
        "/etc/ssl/liveroom/privkey.pem": str(key),
        "/var/cache/nginx/liveroom": str(directory / "cache"),
        "/srv/liveroom/staticfiles/": f"{ROOT / 'static'}/",
        "/etc/nginx/liveroom-callback-allow.conf": str(allow),
        "/etc/nginx/liveroom-events.conf": str(DEPLOY / "nginx" / "liveroom-events.conf"),
    }
    for old, new in replacements.items():
        assert old in site, f"{old!r} is no longer in liveroom.conf: update tests/scaleout/front.py"
        site = site.replace(old, new)
    (directory / "site.conf").write_text(site)
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (directory / sub).mkdir(exist_ok=True)
    main = directory / "nginx.conf"
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read this private directory
    main.write_text(
        f"daemon off;\nmaster_process on;\nworker_processes 2;\n{user}pid {directory}/nginx.pid;\n"
        f"error_log {directory}/error.log warn;\nevents {{ worker_connections 1024; }}\n"
        "http {\n    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n"
        f"    access_log {directory}/access.log;\n    client_body_temp_path {directory}/body;\n"
        f"    proxy_temp_path {directory}/proxy;\n    fastcgi_temp_path {directory}/fastcgi;\n"
        f"    uwsgi_temp_path {directory}/uwsgi;\n    scgi_temp_path {directory}/scgi;\n"
        f"    include {directory}/site.conf;\n}}\n"
    )
    return cert, main


def start_nginx(procs, directory: Path, node_ports, **kwargs):
    directory.mkdir(parents=True, exist_ok=True)
    http_port, https_port = free_port(), free_port()
    cert, main = render_site(directory, node_ports, http_port, https_port, **kwargs)
    test = subprocess.run(["nginx", "-t", "-p", str(directory), "-c", str(main)], capture_output=True, text=True)
    assert test.returncode == 0, test.stderr
    proc = procs.start("nginx", ["nginx", "-p", str(directory), "-c", str(main)])
    proc.http_port, proc.https_port, proc.cert = http_port, https_port, str(cert)
    proc.url = f"https://127.0.0.1:{https_port}"
    wait_for(lambda: _listening(https_port), "nginx", proc)
    return proc


def _listening(port):
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False
