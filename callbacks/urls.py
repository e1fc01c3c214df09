from django.urls import path

from . import views

urlpatterns = [
    path("tencent/", views.tencent, name="tencent-callback"),
]
