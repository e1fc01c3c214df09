"""Moderation in the Django admin: ban / unban actions with an intermediate form, the bans
and their cloud enforcement, the streamers, and the read-only audit log."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from . import services
from .forms import BanForm, UnbanForm
from .models import ModerationAction, RoomBan, Streamer, StreamerBan


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the moderation services only; nobody adds, edits or deletes them here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- the intermediate page --------------------------------------------------------------------


def with_form(modeladmin, request, queryset, *, action, form_class, title, submit, apply):
    """Django's intermediate-page idiom: the action's first post shows `form_class` for the
    selected objects; submitting it (`apply` in the post) calls `apply(form)` and returns to
    the list, which shows the messages."""
    form = form_class(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        apply(form)
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "opts": modeladmin.model._meta,
        "form": form,
        "objects": queryset,
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "submit_label": submit,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "admin/moderation/action_form.html", context)


def report(modeladmin, request, done, skipped, *, done_text, skipped_text, note=""):
    """One success message naming what was done, one warning naming what was left alone."""
    if done:
        names = format_html_join(", ", "{}", ((str(name),) for name in done))
        modeladmin.message_user(request, format_html("{} {}. {}", done_text, names, note), messages.SUCCESS)
    if skipped:
        names = format_html_join(", ", "{}", ((str(name),) for name in skipped))
        modeladmin.message_user(request, format_html("{} {}.", skipped_text, names), messages.WARNING)


def room_name(room):
    return f'"{room.title}" (#{room.pk})'


def cloud_note():
    url = reverse("admin:moderation_roomban_changelist")
    return format_html('Tencent is being told; <a href="{}?cloud=unconfirmed">unconfirmed bans</a> are retried.', url)


def until_text(until):
    return f"until {timezone.localtime(until):%Y-%m-%d %H:%M %Z}" if until else "permanently"


def form_action(name, *, description, title, form_class, service, label, done_text, skipped_text, cloud=True):
    """A ban / unban admin action: the intermediate form first, then `service(obj, moderator=,
    reason=[, until=])` for each selected object (a falsy answer: it was left as it was), then one
    message for what was done and one for what was left alone. `done_text` may name `{until}`."""

    def action(modeladmin, request, queryset):
        def apply(form):
            options = {"reason": form.cleaned_data["reason"]}
            if isinstance(form, BanForm):
                options["until"] = form.until()
            done, skipped = [], []
            for obj in queryset:
                (done if service(obj, moderator=request.user, **options) else skipped).append(label(obj))
            text = done_text.format(until=until_text(options.get("until")))
            note = cloud_note() if cloud else ""
            report(modeladmin, request, done, skipped, done_text=text, skipped_text=skipped_text, note=note)

        submit = "Ban" if form_class is BanForm else "Unban"
        return with_form(
            modeladmin, request, queryset, action=name, form_class=form_class, title=title, submit=submit, apply=apply
        )

    action.__name__ = name  # the admin tells actions apart by name
    return admin.action(description=description, permissions=["ban"])(action)


# --- room actions (on the Room admin, see admin_rooms) ---------------------------------------------

ban_rooms = form_action(
    "ban_rooms",
    description="Ban selected rooms",
    title="Ban rooms",
    form_class=BanForm,
    service=services.ban_room,
    label=room_name,
    done_text="Banned {until}, out of the list now:",
    skipped_text="Already banned, left as they were:",
)
unban_rooms = form_action(
    "unban_rooms",
    description="Unban selected rooms",
    title="Unban rooms",
    form_class=UnbanForm,
    service=services.unban_room,
    label=room_name,
    done_text="Unbanned (their streams may be pushed again; the rooms stay closed):",
    skipped_text="Not under a ban, left as they were:",
)


class RoomBanInline(ReadOnlyInline):
    model = RoomBan
    fk_name = "room"
    fields = ("created_at", "moderator", "reason", "until", "lifted_at", "cloud_confirmed", "cloud_error")
    readonly_fields = fields


class StreamerRoomBanInline(RoomBanInline):
    fk_name = "streamer_ban"
    fields = ("room", *RoomBanInline.fields)
    readonly_fields = fields


class RoomModerationMixin:
    """The ban / unban actions for the Room admin (RoomBanInline shows a room's bans)."""

    actions = [ban_rooms, unban_rooms]

    def has_ban_permission(self, request):
        return request.user.has_perm("moderation.ban_room")

    @admin.display(description="Owner")
    def owner_streamer(self, room):
        """The owner, linked to where moderators can see and ban them."""
        if room.owner.is_staff:
            return str(room.owner)
        url = reverse("admin:moderation_streamer_change", args=[room.owner_id])
        return format_html('<a href="{}">{}</a>', url, room.owner)


# --- streamers --------------------------------------------------------------------------------

ban_streamers = form_action(
    "ban_streamers",
    description="Ban streamer",
    title="Ban streamers",
    form_class=BanForm,
    service=services.ban_streamer,
    label=lambda user: user.username,
    done_text="Banned {until} (no new rooms; their open room is banned):",
    skipped_text="Already banned, left as they were:",
)
unban_streamers = form_action(
    "unban_streamers",
    description="Unban streamer",
    title="Unban streamers",
    form_class=UnbanForm,
    service=services.unban_streamer,
    label=lambda user: user.username,
    done_text="Unbanned (they may open rooms again):",
    skipped_text="Not banned, left as they were:",
    cloud=False,
)


class BannedFilter(admin.SimpleListFilter):
    title = "banned"
    parameter_name = "banned"

    def lookups(self, request, model_admin):
        return [("yes", "Banned"), ("no", "Not banned")]

    def queryset(self, request, queryset):
        banned = Exists(StreamerBan.objects.active().filter(user=OuterRef("pk")))
        if self.value() == "yes":
            return queryset.filter(banned)
        if self.value() == "no":
            return queryset.filter(~banned)
        return queryset


class StreamerBanInline(ReadOnlyInline):
    model = StreamerBan
    fk_name = "user"
    fields = ("created_at", "moderator", "reason", "until", "lifted_at", "lifted_by")
    readonly_fields = fields


@admin.register(Streamer)
class StreamerAdmin(ReadOnlyAdmin):
    list_display = ("username", "nickname", "ban", "rooms", "date_joined", "last_login")
    list_filter = (BannedFilter,)
    search_fields = ("username", "nickname")
    fields = ("username", "nickname", "date_joined", "last_login", "is_active")
    readonly_fields = fields
    inlines = [StreamerBanInline]
    actions = [ban_streamers, unban_streamers]

    def get_queryset(self, request):
        active = StreamerBan.objects.active()
        return (
            super()
            .get_queryset(request)
            .filter(is_staff=False)
            .prefetch_related(Prefetch("streamer_bans", queryset=active, to_attr="active_bans"))
        )

    def has_ban_permission(self, request):
        return request.user.has_perm("moderation.ban_streamer")

    @admin.display(description="Banned")
    def ban(self, user):
        if not user.active_bans:
            return "—"
        ban = user.active_bans[0]
        return f"{until_text(ban.until)}: {ban.reason}"

    @admin.display(description="Rooms")
    def rooms(self, user):
        url = reverse("admin:rooms_room_changelist")
        return format_html('<a href="{}?owner__id__exact={}">rooms</a>', url, user.pk)


# --- bans and the audit log -------------------------------------------------------------------


class CloudFilter(admin.SimpleListFilter):
    title = "cloud"
    parameter_name = "cloud"

    def lookups(self, request, model_admin):
        return [("confirmed", "Confirmed"), ("unconfirmed", "Unconfirmed")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(cloud_confirmed=self.value() == "confirmed")
        return queryset


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "In force"), ("lifted", "Lifted or run out")]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.active()
        if self.value() == "lifted":
            return queryset.filter(Q(lifted_at__isnull=False) | Q(until__lte=timezone.now()))
        return queryset


class BanAdmin(ReadOnlyAdmin):
    list_select_related = ("moderator",)
    date_hierarchy = "created_at"

    @admin.display(description="Until", ordering="until")
    def until_display(self, ban):
        return timezone.localtime(ban.until) if ban.until else "permanent"

    @admin.display(description="In force", boolean=True)
    def in_force(self, ban):
        return ban.is_active


@admin.action(description="Retry cloud enforcement now", permissions=["ban"])
def retry_cloud(modeladmin, request, queryset):
    confirmed, unconfirmed = services.retry_cloud_syncs(queryset)
    if confirmed:
        modeladmin.message_user(request, f"The cloud confirmed {confirmed} ban(s).", messages.SUCCESS)
    if unconfirmed:
        modeladmin.message_user(
            request, f"{unconfirmed} ban(s) still unconfirmed: see their cloud error; retries go on.", messages.ERROR
        )
    if not confirmed and not unconfirmed:
        modeladmin.message_user(request, "All selected bans were already confirmed.", messages.INFO)


@admin.register(RoomBan)
class RoomBanAdmin(BanAdmin):
    list_display = (
        "room",
        "in_force",
        "cloud_confirmed",
        "until_display",
        "reason",
        "cloud_attempts",
        "cloud_error",
        "moderator",
        "created_at",
    )
    list_filter = (CloudFilter, StateFilter)
    list_select_related = ("room", "moderator")
    search_fields = ("room__title", "room__stream_id", "room__owner__username", "reason")
    actions = [retry_cloud]

    def has_ban_permission(self, request):
        return request.user.has_perm("moderation.ban_room")


@admin.register(StreamerBan)
class StreamerBanAdmin(BanAdmin):
    list_display = ("user", "reason", "until_display", "in_force", "moderator", "created_at", "lifted_at")
    list_filter = (StateFilter,)
    list_select_related = ("user", "moderator")
    search_fields = ("user__username", "user__nickname", "reason")
    inlines = [StreamerRoomBanInline]


@admin.register(ModerationAction)
class ModerationActionAdmin(ReadOnlyAdmin):
    list_display = ("at", "moderator_name", "action", "target", "cloud_result", "reason", "ban_end", "cloud_detail")
    list_filter = ("action", "cloud_result")
    list_select_related = ("moderator",)
    search_fields = ("target", "reason", "moderator__username")
    date_hierarchy = "at"

    @admin.display(description="Moderator", ordering="moderator__username")
    def moderator_name(self, action):
        return action.moderator.username if action.moderator else "(system)"

    @admin.display(description="Ban until", ordering="until")
    def ban_end(self, action):
        if action.action not in (ModerationAction.Kind.BAN_ROOM, ModerationAction.Kind.BAN_STREAMER):
            return "—"
        return timezone.localtime(action.until) if action.until else "permanent"


# The queue, the live wall, reports, flags, decisions; the Room admin with bans, reports and flags.
from . import admin_findings, admin_rooms  # noqa: E402, F401
