from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import UserSerializer
from api.serializers import ErrorSerializer, StrictSerializer, TypedSerializer
from livecloud import stream_urls

from .models import Room

COVER_URL_LENGTH = Room._meta.get_field("cover_url").max_length
# One rule for the API's check and its schema: http(s)://, a host (1-253 characters, optional
# port), then an optional path, query or fragment without spaces.
COVER_URL_PATTERN = r"^[hH][tT][tT][pP][sS]?://[^\s/?#@:]{1,253}(:[0-9]{1,5})?([/?#]\S*)?$"


@extend_schema_field(
    {
        "anyOf": [
            {"type": "string", "maxLength": COVER_URL_LENGTH, "pattern": COVER_URL_PATTERN},
            {"type": "string", "enum": [""]},
        ],
        "description": "An http(s) URL, or empty when there is none.",
    }
)
class CoverUrlField(serializers.CharField):
    """`cover_url`: an http(s) URL or "" (unset), in answers and requests alike."""

    def __init__(self, **kwargs):
        validators = [RegexValidator(COVER_URL_PATTERN, "Enter a valid URL (http or https).")]
        super().__init__(max_length=COVER_URL_LENGTH, allow_blank=True, validators=validators, **kwargs)


class PlayUrlsSerializer(serializers.Serializer):
    rtmp = serializers.CharField()
    flv = serializers.CharField()
    hls = serializers.CharField()


class RoomSerializer(serializers.ModelSerializer):
    owner = UserSerializer(read_only=True)
    play_urls = serializers.SerializerMethodField()
    cover_url = CoverUrlField(read_only=True)
    # "" while the room is open: documented as one of the choices
    close_reason = serializers.ChoiceField(choices=Room.CloseReason.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Room
        fields = [
            "id",
            "stream_id",
            "title",
            "cover_url",
            "snapshot_url",
            "location",
            "status",
            "close_reason",
            "owner",
            "viewer_count",
            "view_count",
            "peak_viewer_count",
            "like_count",
            "created_at",
            "started_at",
            "ended_at",
            "play_urls",
        ]
        read_only_fields = fields

    @extend_schema_field(PlayUrlsSerializer(allow_null=True))
    def get_play_urls(self, room):
        if room.status != Room.Status.LIVE:
            return None
        return stream_urls.play_urls(room.stream_id, now=self.context.get("now"))


class RoomWithPushUrlSerializer(RoomSerializer):
    push_url = serializers.SerializerMethodField()
    push_url_expires_at = serializers.SerializerMethodField()

    class Meta(RoomSerializer.Meta):
        fields = [*RoomSerializer.Meta.fields, "push_url", "push_url_expires_at"]
        read_only_fields = fields

    def _push(self, room):
        if not hasattr(self, "_push_cache"):
            self._push_cache = stream_urls.push_url(room.stream_id)
        return self._push_cache

    def get_push_url(self, room) -> str:
        return self._push(room)[0]

    def get_push_url_expires_at(self, room) -> str:
        return serializers.DateTimeField().to_representation(self._push(room)[1])


class StreamExceptionSerializer(serializers.Serializer):
    type = serializers.IntegerField(allow_null=True, help_text="Tencent's push-exception type (event 321), 1-11.")
    detail = serializers.CharField()
    count = serializers.IntegerField(allow_null=True)
    at = serializers.DateTimeField()


class StreamHealthSerializer(serializers.Serializer):
    """What the cloud receives of the owner's stream, checked once a minute (SPEC §16)."""

    fps = serializers.FloatField(allow_null=True)
    kbps = serializers.IntegerField(allow_null=True, help_text="Video bitrate received, kbit/s.")
    resolution = serializers.CharField(help_text="e.g. 1280x720; empty when not reported.")
    declared_fps = serializers.FloatField(allow_null=True, help_text="The encoder's frame rate.")
    declared_kbps = serializers.IntegerField(allow_null=True, help_text="The encoder's video bitrate.")
    degraded = serializers.BooleanField()
    problems = serializers.ListField(
        child=serializers.ChoiceField(["low_fps", "low_bitrate", "push_exception"]), help_text="Why it is degraded."
    )
    checked_at = serializers.DateTimeField(allow_null=True)
    exception = StreamExceptionSerializer(allow_null=True, help_text="The last push exception Tencent reported.")


class RoomWithHealthSerializer(RoomSerializer):
    """A room; its owner also gets `health` (null before the first check). Others never see it."""

    health = StreamHealthSerializer(allow_null=True, required=False, read_only=True)

    class Meta(RoomSerializer.Meta):
        fields = [*RoomSerializer.Meta.fields, "health"]
        read_only_fields = fields


class RoomInputSerializer(StrictSerializer):
    title = serializers.CharField(max_length=64, min_length=1, trim_whitespace=True)
    cover_url = CoverUrlField(required=False, default="")
    location = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class RoomUpdateSerializer(RoomInputSerializer):
    title = serializers.CharField(max_length=64, min_length=1, trim_whitespace=True, required=False)
    cover_url = CoverUrlField(required=False)
    location = serializers.CharField(max_length=64, required=False, allow_blank=True)


class LikeSerializer(TypedSerializer):
    count = serializers.IntegerField(min_value=1, max_value=50, default=1)


class ViewerTokenSerializer(StrictSerializer):
    viewer_token = serializers.CharField(max_length=200, help_text="The token `join` returned.")


class ViewerCountSerializer(serializers.Serializer):
    viewer_count = serializers.IntegerField(min_value=0, help_text="Watching now.")


class JoinSerializer(ViewerCountSerializer):
    viewer_token = serializers.CharField(
        help_text="Opaque, signed: this room and this viewer (the user when signed in, else a new anonymous viewer)."
    )
    heartbeat_interval = serializers.IntegerField(
        min_value=1, help_text="Seconds between heartbeats; a viewer silent for VIEWER_TIMEOUT stops counting."
    )


class CounterErrorSerializer(ErrorSerializer):
    fields = serializers.DictField(required=False, help_text="Validation errors only: the messages of each field.")


class LikeCountSerializer(serializers.Serializer):
    like_count = serializers.IntegerField()
