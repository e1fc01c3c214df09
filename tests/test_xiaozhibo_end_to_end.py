"""A Xiaozhibo app's story over real HTTP: /interface.php under live_server, the Tencent simulator
and its signed push callback. It runs scripts/xiaozhibo_demo.py, the README's scripted run."""

import importlib.util
from pathlib import Path

import pytest

from rooms import counters
from rooms.models import Room, RoomEvent

DEMO = Path(__file__).resolve().parent.parent / "scripts" / "xiaozhibo_demo.py"


@pytest.fixture
def demo():
    spec = importlib.util.spec_from_file_location("xiaozhibo_demo", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_scripted_run_goes_live_by_callback_counts_likes_and_closes(live_simulator, settings, demo, capsys):
    settings.XIAOZHIBO_COMPAT = True
    demo.run(live_simulator.web, live_simulator.url, timeout=10)
    out = capsys.readouterr().out
    assert "FetchList shows the room" in out and "likecount 3" in out and "gone from FetchList" in out

    [room] = counters.with_pending(Room.objects.all())
    assert (room.status, room.close_reason, room.like_count) == (Room.Status.CLOSED, Room.CloseReason.OWNER, 3)
    sources = list(room.events.values_list("new_status", "source"))
    assert sources == [(Room.Status.LIVE, RoomEvent.Source.CALLBACK), (Room.Status.CLOSED, RoomEvent.Source.XIAOZHIBO)]
    # the demo stopped the push too: the simulator saw the stream end, nothing reopened the room
    assert live_simulator.state()["streams"][room.stream_id]["state"] == "inactive"


def test_the_scripted_run_fails_loudly_when_the_protocol_is_off(live_simulator, settings, demo, capsys):
    settings.XIAOZHIBO_COMPAT = False
    with pytest.raises(demo.StepFailed, match="is XIAOZHIBO_COMPAT on"):
        demo.run(live_simulator.web, live_simulator.url, timeout=1)
