"""The sweeper heals from the cloud's online list only what that list can speak for: a room
interrupted after the list was taken must not be revived by it."""

import pytest

import livecloud
from livecloud.stream_urls import push_url
from rooms import services, sweeper
from rooms.models import Room, RoomEvent

pytestmark = pytest.mark.django_db
S = Room.Status


class CloudAnsweringLate:
    """The real cloud client (over HTTP to the simulator); `meanwhile` runs after the cloud took
    its snapshot and before its answer reaches the sweeper, as a callback can."""

    def __init__(self, meanwhile):
        self.client = livecloud.get_client()
        self.meanwhile = meanwhile

    def online_streams(self):
        online = self.client.online_streams()
        self.meanwhile()
        return online

    def __getattr__(self, name):
        return getattr(self.client, name)


def test_a_room_interrupted_while_the_cloud_answers_is_not_revived(simulator, make_room, streamer, api):
    room = make_room(streamer)
    published = simulator.publish(push_url(room.stream_id)[0]).json()
    services.mark_live(room, source=RoomEvent.Source.CALLBACK, sequence=published["sequence"])

    def stream_end_arrives():
        simulator.stop(room.stream_id)  # offline at the cloud now; its callback is applied here
        services.mark_interrupted(room, source=RoomEvent.Source.CALLBACK, sequence=published["sequence"])

    result = sweeper.sweep(client=CloudAnsweringLate(stream_end_arrives))
    room.refresh_from_db()
    assert room.status == S.INTERRUPTED and result.healed == 0
    assert api.get("/api/v1/rooms/").json()["results"] == []
    assert RoomEvent.objects.filter(room=room, source="sweeper").count() == 0


def test_a_room_interrupted_before_the_snapshot_is_still_healed(simulator, make_room, streamer):
    room = make_room(streamer, S.INTERRUPTED)  # its stream came back; the push callback was lost
    simulator.publish(push_url(room.stream_id)[0])
    assert sweeper.sweep().healed == 1
    room.refresh_from_db()
    assert room.status == S.LIVE
