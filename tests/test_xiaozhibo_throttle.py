"""EnterGroup makes or renames a user for its `userid`: a flood past the counter throttle must
do neither (with the Xiaozhibo protocol on)."""

import pytest
from django.contrib.auth import get_user_model

from rooms.throttling import CounterThrottle
from xiaozhibo.identity import USERNAME_PREFIX

from . import xiaozhibo_client as xzb
from .test_xiaozhibo_actions import compat_on, counter_mode, open_live_room  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def viewers_made():
    return set(
        get_user_model().objects.filter(username__startswith=f"{USERNAME_PREFIX}v_").values_list("username", flat=True)
    )


def test_enter_group_past_the_throttle_creates_no_user(client, counter_mode, monkeypatch):  # noqa: F811
    monkeypatch.setattr(CounterThrottle, "THROTTLE_RATES", {"counter": "3/min"})
    open_live_room(client)
    for n in range(3):
        xzb.ok(client, xzb.enter_group(userid=f"v_{n}"))
    for n in range(3, 20):
        xzb.error(client, xzb.enter_group(userid=f"v_{n}"), 4003, "frequency control")
    assert viewers_made() == {f"{USERNAME_PREFIX}v_{n}" for n in range(3)}


def test_enter_group_past_the_throttle_renames_nobody(client, counter_mode, monkeypatch):  # noqa: F811
    monkeypatch.setattr(CounterThrottle, "THROTTLE_RATES", {"counter": "1/min"})
    open_live_room(client)
    xzb.ok(client, xzb.enter_group(userid="v_1", nickname="Vic"))
    xzb.error(client, xzb.enter_group(userid="v_1", nickname="Mallory", headpic="http://x.example/m.jpg"), 4003)
    user = get_user_model().objects.get(username=f"{USERNAME_PREFIX}v_1")
    assert (user.nickname, user.avatar_url) == ("Vic", "http://img.example.com/v.jpg")


def test_enter_group_for_an_anchor_not_live_creates_no_user(client):
    xzb.error(client, xzb.enter_group(liveuserid="nobody", userid="v_9"), 2003)
    assert viewers_made() == set()
