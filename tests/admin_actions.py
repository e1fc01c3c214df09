"""Driving Django admin actions the way a moderator's browser does."""

import html

ROOMS = "/admin/rooms/room/"
STREAMERS = "/admin/moderation/streamer/"
ROOM_BANS = "/admin/moderation/roomban/"


def run_action(client, url, action, objects, **form):
    """Post an admin action, check that its intermediate form is shown, then submit the form."""
    data = {"action": action, "_selected_action": [str(o.pk) for o in objects]}
    page = client.post(url, data)
    assert page.status_code == 200, page.status_code
    assert b'name="apply"' in page.content
    return client.post(url, {**data, **form, "apply": "yes"}, follow=True)


def shown_messages(response):
    return [html.unescape(str(m)) for m in response.context["messages"]]
