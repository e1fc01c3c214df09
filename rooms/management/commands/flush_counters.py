from django.core.management.base import BaseCommand

from rooms import counters, tasks


class Command(BaseCommand):
    help = "Write pending viewer / like counts from Redis to the database now (what the beat task does)."

    def handle(self, *args, **options):
        if not counters.uses_redis():
            self.stdout.write("No REDIS_URL: counters are written to the database directly, nothing to flush.")
            return
        written = tasks.flush_counters()
        self.stdout.write(f"Flushed the counts of {written} room(s).")
