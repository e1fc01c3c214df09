from django.urls import path

from . import views

urlpatterns = [
    path("events/", views.unavailable, name="events-list"),
    path("rooms/<int:pk>/events/", views.unavailable, name="events-room"),
]
