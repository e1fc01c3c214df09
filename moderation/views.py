"""`POST /api/v1/rooms/{id}/report/`: a viewer reports a live room (SPEC §8.1)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from api.errors import Conflict
from api.serializers import StrictSerializer
from rooms.models import Room
from rooms.views import room_conflict

from . import findings
from .models import Report


class ReportSerializer(StrictSerializer):
    reason = serializers.ChoiceField(choices=Report.Reason.choices)
    detail = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ReportReceivedSerializer(serializers.Serializer):
    counted = serializers.BooleanField(
        help_text="False when this reporter already reported the room within the hour: it counts once."
    )


class ReportErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()


def reporter_key(request, throttle):
    """The account when signed in, else the client's address (as the throttles see it)."""
    if request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return f"addr:{throttle.get_ident(request)}"[:80]


def not_live_error(room):
    """As for join: 409 room_not_live while the room may still go live, room_closed / room_banned after."""
    if room.is_open:
        return Conflict("This room is not live.", code="room_not_live")
    return room_conflict(room)


class ReportView(APIView):
    """Report a live room to the moderators; anyone may, signed in or not."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "report"

    @extend_schema(
        operation_id="rooms_report",
        tags=["rooms"],
        request=ReportSerializer,
        responses={
            202: ReportReceivedSerializer,
            400: OpenApiResponse(
                ReportErrorSerializer,
                description="A reason not offered, a detail over 500 characters, or another field.",
            ),
            404: OpenApiResponse(ReportErrorSerializer, description="No such room."),
            409: OpenApiResponse(ReportErrorSerializer, description="room_not_live, room_closed or room_banned."),
            429: OpenApiResponse(
                ReportErrorSerializer, description="Too many reports from this client (THROTTLE_REPORT)."
            ),
        },
    )
    def post(self, request, pk):
        serializer = ReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            counted = findings.file_report(
                pk,
                reporter_key=reporter_key(request, self.get_throttles()[0]),
                reporter=request.user if request.user.is_authenticated else None,
                **serializer.validated_data,
            )
        except Room.DoesNotExist:
            raise NotFound("No room with this id.") from None
        except findings.RoomNotLive as exc:
            raise not_live_error(exc.room) from None
        return Response({"counted": counted}, status=status.HTTP_202_ACCEPTED)
