from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = BaseUserAdmin.fieldsets + (("Profile", {"fields": ("nickname", "avatar_url")}),)
    list_display = ("username", "nickname", "email", "is_staff", "date_joined")
    search_fields = ("username", "nickname", "email")
