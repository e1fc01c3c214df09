"""Xiaozhibo `userid`s and the liveroom users they map to (one each, created on first use).

The created user is named `xzb:<userid>`: readable in the admin, and never a name someone can
register through the REST API (`:` is refused there), so the two kinds of account cannot meet.
It has no usable password: only this protocol acts as it.
"""

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from .models import Account

USERNAME_PREFIX = "xzb:"


def find_user(userid):
    """The user of a known `userid`, else None."""
    account = Account.objects.select_related("user").filter(userid=userid).first()
    return account.user if account else None


def user_for(userid, *, nickname=None, headpic=None):
    """The user of `userid`, created on first use. `nickname` / `headpic`, when given (not None),
    become the user's nickname and avatar; unchanged values cost no write."""
    user = find_user(userid)
    if user is None:
        user = _create(userid)
    changes = {
        field: value
        for field, value in (("nickname", nickname), ("avatar_url", headpic))
        if value is not None and getattr(user, field) != value
    }
    if changes:
        get_user_model().objects.filter(pk=user.pk).update(**changes)
        for field, value in changes.items():
            setattr(user, field, value)
    return user


def _create(userid):
    try:
        with transaction.atomic():
            user = get_user_model().objects.create_user(f"{USERNAME_PREFIX}{userid}", password=None)
            Account.objects.create(userid=userid, user=user)
            return user
    except IntegrityError:
        # a concurrent first request created it: use theirs
        return Account.objects.select_related("user").get(userid=userid).user
