from django.core.management.base import BaseCommand

from rooms import counters, tasks


class Command(BaseCommand):
    help = (
        "Write pending viewer / like counts from Redis to the database now (what the beat task does);"
        " without Redis, recount the live rooms whose viewers timed out."
    )

    def handle(self, *args, **options):
        written = tasks.flush_counters()
        if counters.uses_redis():
            self.stdout.write(f"Flushed the counts of {written} room(s).")
        else:
            self.stdout.write(
                f"No REDIS_URL: counts are in the database; recounted {written} room(s) whose viewers timed out."
            )
