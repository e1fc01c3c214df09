"""Run the development ingest edge (nginx + RTMP) in the foreground, for `make run`."""

import os
import signal
import socket

from django.core.management.base import BaseCommand, CommandError

from livecloud import edge


class Command(BaseCommand):
    help = (
        "Run nginx with the RTMP module as the simulator's ingest edge: RTMP push and play on the push "
        "domain's port, HLS on the play domain's port. Without nginx it explains how to install it and "
        "idles, so the rest of `make run` keeps going (pushes can then only be pretended)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--runtime-dir", help="config, pid, temp files, HLS (default: .edge/<RTMP port>/)")
        parser.add_argument("--check", action="store_true", help="exit 0 if the edge can run here, 1 if not")

    def handle(self, *args, runtime_dir, check, **options):
        reason = edge.missing()
        if check:
            if reason:
                raise CommandError(reason)
            self.stdout.write("nginx with the RTMP module is installed.")
            return
        if reason:
            self.idle(reason)
            return
        config = edge.from_settings(runtime_dir)
        for port in (config.rtmp_port, config.http_port):
            if not port_is_free(config.host, port):
                raise CommandError(
                    f"port {port} on {config.host} is taken: choose free ones with `make run RTMP_PORT=... "
                    "HLS_PORT=...` (or set the ports of TENCENT_LIVE_PUSH_DOMAIN / TENCENT_LIVE_PLAY_DOMAIN)."
                )
        argv = edge.prepare(config)
        self.stdout.write(
            f"Ingest edge: push to {config.push_base()}/<stream_id>?txSecret=...&txTime=..., "
            f"HLS at {config.hls_url('<stream_id>')}, "
            f"hooks to {config.hooks_url}"
        )
        self.stdout.flush()
        # nginx takes over this process, so the process manager's signals reach it directly.
        os.execv(argv[0], argv)

    def idle(self, reason):
        self.stdout.write(
            f"Ingest edge off: {reason}. Pushes can only be pretended with POST /sim/publish; "
            "install the packages and restart `make run` to push real streams."
        )
        self.stdout.flush()
        try:
            while True:
                signal.pause()
        except KeyboardInterrupt:
            pass


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as nginx does
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True
