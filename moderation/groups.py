"""The `moderators` group: staff in it can ban and unban rooms and streamers, work the moderation
queue and watch the live wall, nothing more."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

MODERATORS = "moderators"

# (app label, codename): see the rooms and their history, see and act on bans and streamers,
# read the audit log. No add/change/delete of rooms, users or audit rows.
PERMISSIONS = [
    ("rooms", "view_room"),
    ("rooms", "view_roomevent"),
    ("moderation", "view_roomban"),
    ("moderation", "ban_room"),
    ("moderation", "view_streamerban"),
    ("moderation", "ban_streamer"),
    ("moderation", "view_streamer"),
    ("moderation", "view_moderationaction"),
    # finding violations: the queue, the live wall, reports, flags and decisions
    ("moderation", "view_queuedroom"),
    ("moderation", "view_wallroom"),
    ("moderation", "view_report"),
    ("moderation", "view_flag"),
    ("moderation", "view_decision"),
]


def ensure_moderators_group(apps=global_apps):
    """Create the group (or reset its permissions to exactly PERMISSIONS). Used by migrations.

    Changing PERMISSIONS needs a new data migration that calls this again.
    """
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=MODERATORS)
    group.permissions.set(
        [
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in PERMISSIONS
            if _model_exists(apps, app, codename)
        ]
    )
    return group


def _model_exists(apps, app, codename):
    """False for a default permission (`view_<model>`) of a model a later migration creates: an
    earlier migration calling this leaves it to that one."""
    action, _, model = codename.partition("_")
    if action not in ("add", "change", "delete", "view"):
        return True
    try:
        apps.get_model(app, model)
    except LookupError:
        return False
    return True


def update_moderators_group(apps, schema_editor):
    """A data migration's step: the permissions of `rooms` and `moderation` (normally created
    after all migrations ran) now, then the group with exactly PERMISSIONS."""
    for label in ("rooms", "moderation"):
        config = apps.get_app_config(label)
        config.models_module = True
        create_permissions(config, apps=apps, verbosity=0)
        config.models_module = None
    ensure_moderators_group(apps)
