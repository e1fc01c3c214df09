from django.db import migrations

from moderation.groups import update_moderators_group


class Migration(migrations.Migration):
    """The moderators group gains the queue, the live wall, reports, flags and decisions."""

    dependencies = [
        ("moderation", "0003_findings"),
    ]

    operations = [migrations.RunPython(update_moderators_group, migrations.RunPython.noop)]
