from django.contrib.auth.management import create_permissions
from django.db import migrations

from moderation.groups import MODERATORS, ensure_moderators_group


def create_moderators_group(apps, schema_editor):
    # Permissions are normally created after all migrations ran; create the ones needed now.
    for label in ("rooms", "moderation"):
        config = apps.get_app_config(label)
        config.models_module = True
        create_permissions(config, apps=apps, verbosity=0)
        config.models_module = None
    ensure_moderators_group(apps)


def remove_moderators_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=MODERATORS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("rooms", "0001_initial"),
        ("moderation", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_moderators_group, remove_moderators_group)]
