"""The legacy cloud API signs each request in its query string (`sign = md5(API_KEY + t)`): the
errors it raises end up in logs and admin fields, so they must never carry that signature."""

import logging
import re
import socket
import traceback

import pytest

import livecloud
from moderation import services
from moderation.models import ModerationAction, RoomBan
from moderation.tasks import enforce_room_ban

from .admin_actions import ROOM_BANS

pytestmark = pytest.mark.django_db
SIGNATURE = re.compile(r"sign=[0-9a-f]{8}", re.IGNORECASE)


@pytest.fixture
def unreachable_legacy_cloud(settings):
    """The legacy backend pointed at a port that refuses connections."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        settings.LIVE_CLOUD = "legacy"
        settings.TENCENT_LIVE_ENDPOINT = f"http://127.0.0.1:{sock.getsockname()[1]}"
        yield


def shown(exc):
    """Everything a log line or traceback of `exc` would show, chained causes included."""
    return "".join(traceback.format_exception(exc))


def test_unreachable_legacy_cloud_error_carries_no_sign(unreachable_legacy_cloud, settings):
    with pytest.raises(livecloud.CloudError) as err:
        livecloud.get_client().resume("8888_u")
    assert err.value.retryable and "unreachable" in str(err.value)
    assert "ConnectionError" in str(err.value)  # still says what went wrong ...
    assert not SIGNATURE.search(shown(err.value))  # ... but not with which signature
    assert "sign=***" in str(err.value)  # the URL is kept, masked
    assert settings.TENCENT_LIVE_API_KEY not in shown(err.value)


def test_legacy_http_error_echoing_the_query_carries_no_sign(simulator, settings, monkeypatch):
    """An error page that quotes the request (a proxy's, say) is cleaned too."""
    import requests

    settings.LIVE_CLOUD = "legacy"
    original = requests.Session.get

    def echoing(self, url, params=None, **kwargs):
        response = original(self, url, params=params, **kwargs)
        response.status_code, response._content = 502, f"Bad gateway for {response.url}".encode()
        return response

    monkeypatch.setattr(requests.Session, "get", echoing)
    with pytest.raises(livecloud.CloudError) as err:
        livecloud.get_client().stream_state("8888_e")
    assert "Bad gateway for" in str(err.value) and "sign=***" in str(err.value)
    assert not SIGNATURE.search(shown(err.value))


def test_legacy_calls_log_no_sign_even_at_debug(simulator, settings, caplog):
    settings.LIVE_CLOUD = "legacy"
    caplog.set_level(logging.DEBUG)
    livecloud.get_client().online_streams()
    simulator.faults(api_error_rate=1.0)
    with pytest.raises(livecloud.CloudError):
        livecloud.get_client().online_streams()
    assert simulator.calls("Live_Channel_GetLiveChannelList")  # the calls did go out
    assert not SIGNATURE.search(caplog.text)


def test_failed_ban_enforcement_shows_no_sign_in_the_admin_or_the_log(
    unreachable_legacy_cloud, live_room, moderator, admin_as, caplog
):
    caplog.set_level(logging.DEBUG)
    ban = services.ban_room(live_room, moderator=moderator, reason="Spam")
    with pytest.raises(livecloud.CloudError) as err:
        enforce_room_ban(ban.pk)
    logging.getLogger("test").exception("as a task runner would log it", exc_info=err.value)
    ban = RoomBan.objects.get(pk=ban.pk)
    action = ModerationAction.objects.get()
    assert ban.cloud_attempts == 1 and "unreachable" in ban.cloud_error
    assert "unreachable" in action.cloud_detail
    page = admin_as(moderator).get(ROOM_BANS, {"cloud": "unconfirmed"}).content.decode()
    assert "unreachable" in page
    for text in (ban.cloud_error, action.cloud_detail, page, caplog.text):
        assert not SIGNATURE.search(text)


def test_callback_log_in_the_admin_masks_the_sign(client, admin_as, make_user, live_room):
    """A callback's sign covers only `t`: shown in the admin, it could be replayed with any body."""
    import html

    from callbacks.models import CallbackEvent

    from .test_callbacks import post, signed

    body = signed("push", live_room.stream_id)
    assert post(client, body).status_code == 200
    event = CallbackEvent.objects.get()
    assert body["sign"] in event.body  # kept as received ...
    admin = admin_as(make_user(is_staff=True, is_superuser=True))
    page = html.unescape(admin.get(f"/admin/callbacks/callbackevent/{event.pk}/change/").content.decode())
    assert live_room.stream_id in page and '"sign": "***"' in page  # ... shown masked
    assert body["sign"] not in page
