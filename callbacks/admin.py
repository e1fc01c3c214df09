import re

from django.contrib import admin

from .models import CallbackEvent

# A callback's `sign` stays valid until its `t` and covers no body: shown, it could be replayed.
SIGN_VALUE = re.compile(r'("sign"\s*:\s*)"(?:[^"\\]|\\.)*"')


@admin.register(CallbackEvent)
class CallbackEventAdmin(admin.ModelAdmin):
    list_display = ("received_at", "kind", "stream_id", "sequence", "outcome", "repeats", "detail")
    list_filter = ("outcome", "kind")
    search_fields = ("stream_id", "sequence")
    date_hierarchy = "received_at"
    fields = readonly_fields = [
        "body_without_sign" if f.name == "body" else f.name for f in CallbackEvent._meta.fields if f.name != "id"
    ]

    @admin.display(description="body")
    def body_without_sign(self, event):
        return SIGN_VALUE.sub(r'\1"***"', event.body)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
