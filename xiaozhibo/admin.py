from django.contrib import admin

from .models import Account


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    """Which liveroom user a Xiaozhibo `userid` acts as (read-only: the protocol creates them)."""

    list_display = ("userid", "user", "created_at")
    search_fields = ("userid", "user__username", "user__nickname")
    readonly_fields = ("userid", "user", "created_at")

    def has_add_permission(self, request):
        return False
