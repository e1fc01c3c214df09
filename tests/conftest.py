import uuid
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from rooms import counters, services
from rooms.models import Room, RoomEvent
from tests.events_client import events_server  # noqa: F401  (uvicorn serving the event streams)
from tests.media import ingest_edge  # noqa: F401  (nginx-rtmp ingest edge fixture)
from tests.simulator import live_simulator, simulator, simulator_server  # noqa: F401  (Tencent simulator fixtures)


@pytest.fixture(autouse=True)
def redis_namespace(settings):
    """A Redis key prefix of its own for each test (caches, counters, throttles), removed afterwards."""
    prefix = f"lrtest:{uuid.uuid4().hex[:12]}"
    settings.REDIS_KEY_PREFIX = prefix
    # The shared test Redis may pause on a busy machine; tests/faults checks the 250 ms default.
    settings.REDIS_SOCKET_TIMEOUT_MS = 2000
    caches = {name: dict(conf) for name, conf in django_settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = prefix
    settings.CACHES = caches
    yield prefix
    if django_settings.REDIS_URL:
        from infra.redis import get_redis

        client = get_redis()
        keys = list(client.scan_iter(f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Tests create many users; a deliberately slow hasher would dominate their run time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_user(django_user_model):
    def make(username=None, **extra):
        username = username or f"user{uuid.uuid4().hex[:8]}"
        extra.setdefault("nickname", username.title())
        return django_user_model.objects.create_user(username, password="s3cret-pass-123", **extra)

    return make


@pytest.fixture
def streamer(make_user):
    return make_user("streamer", nickname="Streamer Sam")


@pytest.fixture
def viewer(make_user):
    return make_user("viewer", nickname="Viewer Vic")


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def client_for():
    def make(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
        return client

    return make


@pytest.fixture
def streamer_api(client_for, streamer):
    return client_for(streamer)


@pytest.fixture
def viewer_api(client_for, viewer):
    return client_for(viewer)


@pytest.fixture
def make_room():
    def make(owner, status=Room.Status.CREATED, title="Evening show", **extra):
        room = services.create_room(owner, title=title, **extra)
        if status in (Room.Status.LIVE, Room.Status.INTERRUPTED):
            services.mark_live(room, source=RoomEvent.Source.API)
        if status == Room.Status.INTERRUPTED:
            services.mark_interrupted(room, source=RoomEvent.Source.CALLBACK)
        if status == Room.Status.CLOSED:
            services.close_room(room, reason=Room.CloseReason.OWNER, source=RoomEvent.Source.API)
        if status == Room.Status.BANNED:
            services.ban_room(room, reason="test")
        room.refresh_from_db()
        return room

    return make


@pytest.fixture
def live_room(make_room, streamer):
    return make_room(streamer, Room.Status.LIVE)


@pytest.fixture
def many_live_rooms(django_user_model):
    """`n` live rooms, the newest first in the list; created in bulk to keep the test quick."""

    def make(n):
        tag = uuid.uuid4().hex[:6]
        owners = django_user_model.objects.bulk_create(
            django_user_model(username=f"o{tag}{i}", nickname=f"Owner {i}") for i in range(n)
        )
        start = timezone.now() - timedelta(hours=1)
        return Room.objects.bulk_create(
            Room(
                owner=owner,
                stream_id=f"8888_{tag}{i:05d}",
                title=f"Show {i}",
                status=Room.Status.LIVE,
                started_at=start + timedelta(seconds=i),
            )
            for i, owner in enumerate(owners)
        )

    return make


@pytest.fixture
def live_rooms(many_live_rooms):
    """`live_rooms(n)`: `many_live_rooms` with counts that tie often (so orderings by count need
    their id tie-break), known to Redis's live set."""

    def make(n):
        rooms = many_live_rooms(n)
        for i, room in enumerate(rooms):
            room.viewer_count, room.like_count = (i * 7) % 11 * 10, (i * 5) % 13
        Room.objects.bulk_update(rooms, ["viewer_count", "like_count"])
        counters.sync_live()
        return rooms

    return make


@pytest.fixture(autouse=True)
def no_list_cache(settings):
    """The list cache is invalidated on commit, which plain `django_db` tests never reach, so a
    test listing twice would see a stale page. Tests of the cache turn it on (`list_cache`)."""
    settings.ROOM_LIST_CACHE_TTL = 0


@pytest.fixture
def list_cache(settings):
    settings.ROOM_LIST_CACHE_TTL = 5
    return settings.ROOM_LIST_CACHE_TTL


@pytest.fixture
def redis_round_trips(monkeypatch):
    """Records what is sent to Redis, one entry per round trip (a pipeline or a script is one).

    The connection's periodic health-check PING is left out: it costs one trip per connection
    every 30 s, not one per request.
    """
    from redis.connection import AbstractConnection

    sent = []
    original = AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        if check_health:
            sent.append(command)
        return original(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    return sent


@pytest.fixture
def moderator(make_user):
    """Staff in the `moderators` group (made by a migration; ensured again after a flush)."""
    from moderation.groups import ensure_moderators_group

    user = make_user("moderator", nickname="Mod Mia", is_staff=True)
    user.groups.add(ensure_moderators_group())
    return user


@pytest.fixture
def admin_as():
    """A browser session of `user` in the Django admin."""

    def login(user):
        client = Client()
        client.force_login(user)
        return client

    return login
