"""The `moderators` group: staff in it can ban and unban rooms and streamers, nothing more."""

from django.apps import apps as global_apps

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
]


def ensure_moderators_group(apps=global_apps):
    """Create the group (or reset its permissions to exactly PERMISSIONS). Used by migrations.

    Changing PERMISSIONS needs a new data migration that calls this again.
    """
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=MODERATORS)
    group.permissions.set(
        [Permission.objects.get(content_type__app_label=app, codename=codename) for app, codename in PERMISSIONS]
    )
    return group
