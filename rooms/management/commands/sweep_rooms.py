import json

from django.core.management.base import BaseCommand, CommandError

from rooms import sweeper


class Command(BaseCommand):
    help = (
        "Run one pass of the zombie sweeper. With --bench: time one pass over N live rooms against "
        "an in-process Tencent simulator (creates its rooms in the configured database, removes them after)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--bench", action="store_true", help="measure one sweep instead of sweeping")
        parser.add_argument("--rooms", type=int, default=10_000, help="live rooms for --bench (default 10000)")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print the result as JSON")

    def handle(self, *args, bench, rooms, as_json, **options):
        if bench:
            from bench.sweep import measure_sweep

            result = measure_sweep(rooms=rooms)
        else:
            result = sweeper.sweep().as_dict()
        self.stdout.write(json.dumps(result) if as_json else _text(result, bench))
        if result.get("cloud_error"):
            raise CommandError(f"The cloud call failed, nothing was closed: {result['cloud_error']}")


def _text(result, bench):
    if bench:
        return (
            f"sweep over {result['live_rooms']} live rooms: {result['seconds']:.3f} s, "
            f"{result['list_calls']} list call(s), {result['seen_online']} seen online"
        )
    if not result["ran"]:
        return "Another sweep is running; nothing done."
    return ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in result.items() if k not in ("ran", "cloud_error"))
