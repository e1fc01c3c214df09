from django.urls import re_path
from rest_framework.routers import DefaultRouter

from . import counter_views
from .views import RoomViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("rooms", RoomViewSet, basename="room")

ROOM = r"^rooms/(?P<id>[0-9]{1,18})"
urlpatterns = [
    re_path(rf"{ROOM}/join/$", counter_views.JoinView.as_view(), name="room-join"),
    re_path(rf"{ROOM}/heartbeat/$", counter_views.HeartbeatView.as_view(), name="room-heartbeat"),
    re_path(rf"{ROOM}/leave/$", counter_views.LeaveView.as_view(), name="room-leave"),
    re_path(rf"{ROOM}/like/$", counter_views.LikeView.as_view(), name="room-like"),
    *router.urls,
]
