from django.urls import path

from . import views

urlpatterns = [
    path("events/", views.list_events, name="events-list"),
    path("rooms/<int:pk>/events/", views.room_events, name="events-room"),
]
