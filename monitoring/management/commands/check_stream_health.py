import json

from django.core.management.base import BaseCommand, CommandError

from monitoring import health


class Command(BaseCommand):
    help = (
        "Check the health of every online stream now (one DescribeLiveStreamPushInfoList call). With --bench: "
        "time one check over N live rooms against an in-process simulator (its rooms are removed after)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--bench", action="store_true", help="measure one check instead of checking")
        parser.add_argument("--rooms", type=int, default=10_000, help="live rooms for --bench (default 10000)")

    def handle(self, *args, bench, rooms, **options):
        if bench:
            from monitoring.health_bench import measure_health_check

            result = measure_health_check(rooms=rooms)
        else:
            result = health.check()
        self.stdout.write(json.dumps(result))
        if result.get("cloud_error"):
            raise CommandError(f"The cloud call failed; the last figures stay: {result['cloud_error']}")
