from django.contrib import admin

from .models import CallbackEvent


@admin.register(CallbackEvent)
class CallbackEventAdmin(admin.ModelAdmin):
    list_display = ("received_at", "event_type", "stream_id", "sequence", "outcome", "repeats", "detail")
    list_filter = ("outcome", "event_type")
    search_fields = ("stream_id", "sequence")
    date_hierarchy = "received_at"
    readonly_fields = [f.name for f in CallbackEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
