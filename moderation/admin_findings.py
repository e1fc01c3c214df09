"""The moderation queue and the live wall in the Django admin (SPEC §8.1), plus read-only lists
of reports, flags and decisions. Both pages are the change lists of proxy models, so the admin's
index links them and their `view` permissions (the moderators group has them) guard them."""

from datetime import timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from rooms import counters
from rooms.models import Room

from . import findings, services
from .admin import ReadOnlyAdmin, ReadOnlyInline, until_text
from .forms import BanForm
from .models import Decision, Flag, QueuedRoom, Report, WallRoom

QUEUE_PAGE_SIZE = 50
WALL_PAGE_SIZE = 60
WALL_BAN_FOR = timedelta(hours=24)


def signals_text(summary):
    """ "Spam ×3, Violence ×1" for the reports, then the flags' labels."""
    parts = [
        f"{Report.Reason(reason).label} ×{n}" for reason, n in sorted(summary["reports"].items(), key=lambda i: -i[1])
    ]
    return parts


def ban_reason(summary):
    """The ban form's prefilled reason: the top reported reason, else the flags' labels."""
    top = findings.top_reason(summary["reports"])
    if top:
        return f"Reported by viewers: {top}."
    if summary["labels"]:
        return f"Flagged by Tencent's moderation: {', '.join(summary['labels'])}."
    return ""


def age(since, now):
    if since is None:
        return ""
    minutes = max(0, int((now - since).total_seconds() // 60))
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def picture(room):
    """The latest snapshot, else the cover; "" for the placeholder."""
    return room.snapshot_url or room.cover_url


def tile(room, summary, now, *, can_ban):
    owner = room.owner
    return {
        "id": room.pk,
        "title": room.title,
        "streamer": owner.nickname or owner.username,
        "username": owner.username,
        "picture": picture(room),
        "from_snapshot": bool(room.snapshot_url),
        "viewers": room.viewer_count,
        "reports": sum(summary["reports"].values()),
        "reasons": signals_text(summary),
        "blocks": summary["blocks"],
        "reviews": summary["reviews"],
        "labels": summary["labels"],
        "first_time": getattr(room, "first_time", False),
        "on_air": age(room.started_at, now),
        "admin_url": reverse("admin:rooms_room_change", args=[room.pk]),
        "ban_url": reverse("admin:moderation_queuedroom_ban", args=[room.pk]) if can_ban else "",
    }


def _safe_next(request, default):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


@admin.register(QueuedRoom)
class QueueAdmin(ReadOnlyAdmin):
    """Rooms with open reports or flags, riskiest first; per room: ban (the ban form, its reason
    prefilled) or dismiss."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/ban/", view(self.ban_view), name="moderation_queuedroom_ban"),
            path("<int:pk>/dismiss/", view(require_POST(self.dismiss_view)), name="moderation_queuedroom_dismiss"),
            *super().get_urls(),
        ]

    def has_ban_permission(self, request):
        return request.user.has_perm("moderation.ban_room")

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        page = Paginator(findings.queue(), QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
        rooms = counters.with_pending(list(page.object_list))
        summaries = findings.signal_summary([room.pk for room in rooms])
        now, can_ban = timezone.now(), self.has_ban_permission(request)
        rows = []
        for room in rooms:
            row = tile(room, summaries[room.pk], now, can_ban=can_ban)
            row.update(
                status=room.get_status_display(),
                live=room.status == Room.Status.LIVE,
                waiting=age(room.first_signal, now),
                dismiss_url=reverse("admin:moderation_queuedroom_dismiss", args=[room.pk]) if can_ban else "",
            )
            rows.append(row)
        context = {
            **self.admin_site.each_context(request),
            "title": "Moderation queue",
            "opts": self.model._meta,
            "rows": rows,
            "page": page,
            "wall_url": reverse("admin:moderation_wallroom_changelist"),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/moderation/queue.html", context)

    def ban_view(self, request, pk):
        """GET: the ban form, reason prefilled from the room's top signal. POST: ban. With
        `quick` (the wall's one-click ban): ban now for 24 hours with that reason."""
        if not self.has_ban_permission(request):
            raise PermissionDenied
        room = get_object_or_404(Room.objects.select_related("owner"), pk=pk)
        summary = findings.signal_summary([room.pk])[room.pk]
        back = _safe_next(request, reverse("admin:moderation_queuedroom_changelist"))
        if request.method == "POST" and request.POST.get("quick"):
            reason = ban_reason(summary) or "Violation seen on the live wall."
            return self._ban(request, room, reason, timezone.now() + WALL_BAN_FOR, back)
        form = BanForm(request.POST if request.method == "POST" else None, initial={"reason": ban_reason(summary)})
        if form.is_bound and form.is_valid():
            return self._ban(request, room, form.cleaned_data["reason"], form.until(), back)
        context = {
            **self.admin_site.each_context(request),
            "title": f'Ban room "{room.title}"',
            "opts": self.model._meta,
            "room": room,
            "reasons": signals_text(summary),
            "labels": summary["labels"],
            "form": form,
            "next": back,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/moderation/queue_ban.html", context)

    def _ban(self, request, room, reason, until, back):
        if services.ban_room(room, moderator=request.user, reason=reason, until=until):
            self.message_user(
                request, f'Banned "{room.title}" (#{room.pk}) {until_text(until)}: {reason}', messages.SUCCESS
            )
        else:
            self.message_user(request, f'"{room.title}" (#{room.pk}) was already banned.', messages.WARNING)
        return redirect(back)

    def dismiss_view(self, request, pk):
        if not self.has_ban_permission(request):
            raise PermissionDenied
        room = get_object_or_404(Room, pk=pk)
        decision = services.dismiss_signals(room, moderator=request.user)
        if decision:
            self.message_user(
                request,
                f'Dismissed {decision.reports} report(s) and {decision.flags} flag(s) of "{room.title}" (#{room.pk}).',
                messages.SUCCESS,
            )
        else:
            self.message_user(request, f'"{room.title}" (#{room.pk}) had nothing open.', messages.WARNING)
        return redirect(_safe_next(request, reverse("admin:moderation_queuedroom_changelist")))


@admin.register(WallRoom)
class WallAdmin(ReadOnlyAdmin):
    """Every live room as a tile with its latest frame, refreshing itself; `?just_started=1`:
    those live for less than 30 minutes, first-time streamers marked."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("data/", view(self.data_view), name="moderation_wallroom_data"), *super().get_urls()]

    def wall_page(self, request):
        """The page's tiles and paging: a fixed number of queries whatever the page or its size."""
        just_started = request.GET.get("just_started") == "1"
        now = timezone.now()
        rooms = findings.live_rooms(just_started=just_started, now=now)
        page = Paginator(rooms, WALL_PAGE_SIZE).get_page(request.GET.get("page"))
        shown = counters.with_pending(list(page.object_list))
        summaries = findings.signal_summary([room.pk for room in shown])
        can_ban = request.user.has_perm("moderation.ban_room")
        return {
            "tiles": [tile(room, summaries[room.pk], now, can_ban=can_ban) for room in shown],
            "count": page.paginator.count,
            "page": page.number,
            "pages": page.paginator.num_pages,
            "just_started": just_started,
        }

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        wall = self.wall_page(request)
        query = "just_started=1&" if wall["just_started"] else ""
        context = {
            **self.admin_site.each_context(request),
            "title": "Just started" if wall["just_started"] else "Live wall",
            "opts": self.model._meta,
            "wall": wall,
            "query": query,
            "data_url": f"{reverse('admin:moderation_wallroom_data')}?{query}page={wall['page']}",
            "refresh_seconds": settings.MODERATION_WALL_REFRESH,
            "queue_url": reverse("admin:moderation_queuedroom_changelist"),
            "wall_url": reverse("admin:moderation_wallroom_changelist"),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/moderation/wall.html", context)

    def data_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return JsonResponse(self.wall_page(request))


class ReportInline(ReadOnlyInline):
    """A room's reports, on its admin page (the wall's tiles open it)."""

    model = Report
    fields = ("created_at", "reason", "detail", "reporter_key", "source", "decision")
    readonly_fields = fields
    show_change_link = False


class FlagInline(ReadOnlyInline):
    model = Flag
    fields = ("created_at", "kind", "suggestion", "label", "score", "image_url", "text", "decision")
    readonly_fields = fields
    show_change_link = False


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "room", "reason", "detail", "reporter_key", "source", "decision")
    list_filter = ("reason", ("decision", admin.EmptyFieldListFilter))
    list_select_related = ("room", "decision")
    search_fields = ("room__title", "room__stream_id", "detail")
    date_hierarchy = "created_at"


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "room", "kind", "suggestion", "label", "score", "image_url", "decision")
    list_filter = ("kind", "suggestion", ("decision", admin.EmptyFieldListFilter))
    list_select_related = ("room", "decision")
    search_fields = ("room__title", "room__stream_id", "label")
    date_hierarchy = "created_at"


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ("decided_at", "room", "outcome", "moderator_name", "reports", "flags", "waited")
    list_filter = ("outcome",)
    list_select_related = ("room", "moderator")
    date_hierarchy = "decided_at"

    @admin.display(description="Moderator", ordering="moderator__username")
    def moderator_name(self, decision):
        return decision.moderator.username if decision.moderator else "(system)"

    @admin.display(description="First signal to decision")
    def waited(self, decision):
        seconds = int(decision.time_to_decision.total_seconds())
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min {seconds % 60:02d} s"
