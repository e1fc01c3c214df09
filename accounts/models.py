from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A streamer, viewer or moderator. `nickname` is what the app and the list show."""

    nickname = models.CharField(max_length=64, blank=True)
    avatar_url = models.URLField(max_length=500, blank=True)

    @property
    def display_name(self):
        return self.nickname or self.username
