from django.contrib.auth import views as auth_views
from django.urls import path

from . import web

urlpatterns = [
    path("", web.live_list, name="live-list"),
    path("rooms/<int:pk>/", web.watch, name="watch"),
    path("rooms/<int:pk>/state/", web.watch_state, name="watch-state"),
    path("studio/", web.studio, name="studio"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", web.LogoutView.as_view(), name="logout"),
]
