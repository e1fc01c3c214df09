from django.conf import settings
from django.core.management.base import BaseCommand

from livecloud.sim import SimConfig, Simulator, SimulatorServer


class Command(BaseCommand):
    help = "Run the local Tencent Cloud Live simulator (API 3.0, legacy API, push edge, callbacks)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8100)

    def handle(self, *args, host, port, **options):
        config = SimConfig.from_settings(settings)
        server = SimulatorServer(Simulator(config), host=host, port=port)
        self.stdout.write(
            f"Tencent simulator on {server.url} (API 3.0 at /, legacy at /common_access, control at /sim/)"
        )
        self.stdout.write(f"Callbacks go to {config.callback_url}")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
