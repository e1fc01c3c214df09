from django.urls import path

from .views import interface

urlpatterns = [
    path("interface.php", interface, name="xiaozhibo"),
    path("interface.php/", interface),
]
