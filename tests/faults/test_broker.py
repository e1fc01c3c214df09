"""The Celery broker unreachable (nothing listening, or a redis-server stopped with SIGSTOP).

A ban holds in our data at once and the admin answers as usual; the enforcement that could not
be queued is marked due, so the periodic retry sends it to the cloud once the broker is back.
"""

import time

import pytest
import redis
from django.utils import timezone

from moderation import tasks
from moderation.models import RoomBan
from moderation.services import CLOUD_STALE_AFTER
from rooms.models import Room
from tests.admin_actions import ROOM_BANS, ROOMS

from .conftest import login
from .servers import RedisServer

pytestmark = pytest.mark.usefixtures("faults")


def ban_in_admin(app, session, room):
    """The moderator's two posts (the action, then its form); returns the final page and seconds taken."""
    data = {"action": "ban_rooms", "_selected_action": [str(room.pk)]}
    started = time.monotonic()
    form = session.post(app.url(ROOMS), {**data, "csrfmiddlewaretoken": session.cookies["csrftoken"]}, timeout=20)
    assert form.status_code == 200 and 'name="apply"' in form.text
    page = session.post(
        app.url(ROOMS),
        {
            **data,
            "reason": "spam",
            "duration": "24h",
            "apply": "yes",
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        timeout=20,
    )
    return page, time.monotonic() - started


def assert_banned_and_due(room):
    room.refresh_from_db()
    assert room.status == Room.Status.BANNED
    ban = RoomBan.objects.get(room=room)
    assert not ban.cloud_confirmed
    assert ban.cloud_updated_at <= timezone.now() - CLOUD_STALE_AFTER  # due for the periodic retry


def test_bans_apply_without_a_broker_and_reach_the_cloud_once_it_is_back(
    app, broker_port, simulator, tmp_path, make_room, make_user, moderator, record
):
    session = login(app, moderator)
    session.get(app.url(ROOMS), timeout=10)  # the CSRF cookie
    refused, stopped, later = (make_room(make_user(), Room.Status.LIVE) for _ in range(3))

    page, refused_seconds = ban_in_admin(app, session, refused)  # nothing listens at the broker's port
    assert page.status_code == 200 and "Banned" in page.text
    assert_banned_and_due(refused)

    broker = RedisServer(tmp_path / "broker", port=broker_port).start()
    try:
        broker.stop()
        page, stopped_seconds = ban_in_admin(app, session, stopped)
        assert page.status_code == 200 and "Banned" in page.text
        assert_banned_and_due(stopped)
        assert session.get(app.url(ROOM_BANS), timeout=10).status_code == 200
        broker.resume()

        # Back: the periodic retry (beat) enforces what was never queued ...
        assert tasks.retry_unconfirmed_bans()["confirmed"] == 2
        assert RoomBan.objects.filter(room__in=[refused, stopped], cloud_confirmed=True).count() == 2
        forbidden = {c["params"]["StreamName"] for c in simulator.calls("ForbidLiveStream")}
        assert {refused.stream_id, stopped.stream_id} <= forbidden
        # ... and new bans are queued again as usual.
        page, _ = ban_in_admin(app, session, later)
        assert page.status_code == 200
        assert redis.Redis.from_url(broker.url).llen("celery") == 1
    finally:
        broker.close()
    record(
        "Celery broker unreachable (refused, then SIGSTOP)",
        **{
            "bans made in the admin / applied at once / answered 200": "2 / 2 / 2",
            "seconds the ban action took (refused broker, stopped broker)": f"{refused_seconds:.2f}, {stopped_seconds:.2f}",
            "bans enforced at the cloud by the periodic retry after the broker came back": 2,
            "5xx": 0,
        },
    )
