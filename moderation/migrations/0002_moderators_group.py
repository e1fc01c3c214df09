from django.db import migrations

from moderation.groups import MODERATORS, update_moderators_group


def remove_moderators_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=MODERATORS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("rooms", "0001_initial"),
        ("moderation", "0001_initial"),
    ]

    operations = [migrations.RunPython(update_moderators_group, remove_moderators_group)]
