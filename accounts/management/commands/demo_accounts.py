import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from moderation.groups import ensure_moderators_group

DEMO = [
    # username, password, nickname, is_staff
    ("moderator", "moderator-demo-pass", "Demo moderator", True),
    ("streamer", "streamer-demo-pass", "Demo streamer", False),
]


class Command(BaseCommand):
    help = "Create (or reset) the demo accounts of `make run` and print their logins."

    def handle(self, *args, **options):
        User = get_user_model()
        for username, password, nickname, is_staff in DEMO:
            user, _ = User.objects.get_or_create(username=username, defaults={"nickname": nickname})
            user.is_staff = is_staff
            user.set_password(password)
            user.save()
            if is_staff:  # the group again, also after a test database was flushed
                user.groups.add(ensure_moderators_group())
            web = f"http://127.0.0.1:{os.environ.get('WEB_PORT') or 8000}"
            role = f"moderator (admin at {web}/admin/)" if is_staff else "streamer (studio at /studio/)"
            self.stdout.write(self.style.SUCCESS(f"Demo {role}: {username} / {password}"))
