"""Cursor paging of the public list: `GET /api/v1/rooms/?cursor=…` (see README, "Paging").

Page numbers shift under a reader while rooms go live and end: a card is shown twice, or never.
A cursor names where the reader is instead:

- `-started_at` (and every ordering without snapshots): a keyset on `(field, id)`. A room keeps
  its `started_at` while live, so a walk from the top to the end returns each room that stayed
  live throughout exactly once, whatever went live or ended meanwhile.
- `-viewer_count` / `-like_count` with Redis: an offset into the snapshot the walk's first page
  pinned (`rooms.snapshots`); counts on the cards are current, the order is the snapshot's.

A cursor is signed (a tampered one is a 400) and bound to its ordering and filters. `page` still
pages by number, for clients that send it.
"""

import datetime
import hashlib
import logging
from dataclasses import dataclass

from django.core import signing
from django.db.models import Q
from drf_spectacular.utils import OpenApiExample, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from infra.redis import UNREACHABLE

from . import counters, snapshots
from .filters import DEFAULT_ORDERING
from .pagination import RoomPagination, _positive_int, positive_int

log = logging.getLogger(__name__)
SNAPSHOT_ORDERINGS = ("-viewer_count", "-like_count")
MAX_CURSOR_LENGTH = 400
_SIGNER = signing.Signer(salt="rooms.cursors", sep=".")


class CursorExpired(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "cursor_expired"
    default_detail = "This cursor's snapshot of the list has expired; start again from the first page (`first`)."


class CursorInvalid(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "cursor_invalid"
    default_detail = "This cursor is not one this list gave out; start again from the first page (`first`)."


@dataclass(frozen=True)
class Cursor:
    """Where a walk is: after (or, `reverse`, before) `position` = (value, id) of a keyset, or
    at `offset` in `snapshot`. `scope` is a digest of the ordering and filters it belongs to."""

    scope: str
    position: tuple | None = None
    reverse: bool = False
    snapshot: str | None = None
    offset: int = 0

    def encode(self) -> str:
        if self.snapshot is not None:
            return _SIGNER.sign_object(["s", self.scope, self.snapshot, self.offset])
        value, pk = self.position
        value = value.isoformat() if isinstance(value, datetime.datetime) else value
        return _SIGNER.sign_object(["k", self.scope, int(self.reverse), value, pk])

    @classmethod
    def decode(cls, text: str, field: str) -> "Cursor":
        """The cursor `text` stands for; CursorInvalid unless this list signed it."""
        try:
            if len(text) > MAX_CURSOR_LENGTH:
                raise signing.BadSignature("too long")
            kind, scope, *rest = _SIGNER.unsign_object(text)
            if kind == "s":
                snapshot, offset = rest
                if isinstance(snapshot, str) and type(offset) is int and offset >= 0:
                    return cls(scope, snapshot=snapshot, offset=offset)
            elif kind == "k":
                reverse, value, pk = rest
                if type(pk) is int:
                    return cls(scope, (_position_value(field, value), pk), reverse=bool(reverse))
        except (signing.BadSignature, ValueError, TypeError):
            pass
        raise CursorInvalid()


def _position_value(field, value):
    if field == "started_at":
        moment = datetime.datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("naive time")
        return moment
    if type(value) is not int:
        raise ValueError("not a count")
    return value


def scope_of(ordering: str, search: str = "", owner="") -> str:
    """The digest that binds a cursor to one ordering and set of filters."""
    text = f"{ordering}\n{search.strip()}\n{owner or ''}"
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def after(rows, field, position):
    """The rows of a list ordered by (-field, -id) that come after `position` = (value, id)."""
    value, pk = position
    # `<=` on the field alone bounds the index range; the OR settles ties by id.
    return rows.filter(Q(**{f"{field}__lte": value}) & (Q(**{f"{field}__lt": value}) | Q(pk__lt=pk)))


class Walk:
    """One page of a cursor walk over an ordered queryset of the list (the API's and the web
    page's): `page(queryset)` gives the page's ids and sets `count`, `next`, `previous`
    (Cursors or None) and `with_counts(rooms)`, the rooms with their current counts."""

    def __init__(self, ordering, scope, size, cursor=None):
        self.field, self.scope, self.size, self.cursor = ordering.lstrip("-"), scope, size, cursor
        self.snapshot_ordering = ordering in SNAPSHOT_ORDERINGS
        self.next = self.previous = None
        self._counts = None  # (ids, values) read with the snapshot, in the same round trip

    def page(self, queryset) -> list[int]:
        cursor = self.cursor
        if cursor is not None and cursor.snapshot is not None:
            return self._snapshot_page(cursor)
        if cursor is None and self.snapshot_ordering and snapshots.enabled():
            return self._pin(queryset)
        return self._keyset_page(queryset.values_list("pk", self.field), cursor)

    def with_counts(self, rooms):
        if self._counts is None:
            return counters.with_pending(rooms)
        return counters.with_counts(rooms, *self._counts)

    def _at(self, row, reverse=False):
        return Cursor(self.scope, (row[1], row[0]), reverse=reverse)

    def _keyset_page(self, rows, cursor):
        """Three queries at most with the count: an index range of the ordering's index."""
        self.count = rows.count()
        f = self.field
        if cursor is not None and cursor.reverse:
            value, pk = cursor.position
            preceding = Q(**{f"{f}__gte": value}) & (Q(**{f"{f}__gt": value}) | Q(pk__gt=pk))
            found = list(rows.filter(preceding).order_by(f, "pk")[: self.size + 1])
            page = found[: self.size][::-1]
            self.previous = self._at(page[0], reverse=True) if len(found) > self.size else None
            self.next = self._at(page[-1]) if page else Cursor(self.scope, cursor.position)
            return [pk for pk, _ in page]
        if cursor is not None:
            rows = after(rows, f, cursor.position)
        found = list(rows[: self.size + 1])
        page = found[: self.size]
        self.next = self._at(page[-1]) if len(found) > self.size else None
        if cursor is not None:
            self.previous = self._at(page[0], reverse=True) if page else Cursor(self.scope, cursor.position, True)
        return [pk for pk, _ in page]

    def _pin(self, queryset):
        """First page of a count ordering: every id in order (one index-only query) pinned as a
        snapshot with the first page's counts (one round trip); if Redis fails, a keyset cursor."""
        rows = list(queryset.values_list("pk", self.field))
        self.count, page = len(rows), [pk for pk, _ in rows[: self.size]]
        if len(rows) <= self.size:
            return page
        try:
            name, values = snapshots.pin(self.scope, [pk for pk, _ in rows], len(page))
        except UNREACHABLE:
            log.warning("list snapshot not stored (Redis unreachable); this walk pages by keyset")
            self.next = self._at(rows[self.size - 1])
            return page
        self._counts = (page, values)
        self.next = Cursor(self.scope, snapshot=name, offset=self.size)
        return page

    def _snapshot_page(self, cursor):
        if not snapshots.enabled():  # turned off since: the walk starts again, on a keyset
            raise CursorExpired()
        found = snapshots.read(cursor.snapshot, cursor.offset, self.size)  # Redis down: a 503 (api.errors)
        if found is None:
            raise CursorExpired()
        self.count, page, values = found
        self._counts = (page, values)
        at = cursor.offset
        if at + self.size < self.count:
            self.next = Cursor(self.scope, snapshot=cursor.snapshot, offset=at + self.size)
        if at > 0:
            back = max(0, min(at, self.count) - self.size)
            self.previous = Cursor(self.scope, snapshot=cursor.snapshot, offset=back)
        return page


def is_first_page(raw):
    """True for a `page` that names page 1 (`1`, `01`, `+1`, blank): that page is the list's first
    cursor page, one answer however it is asked for, so it is cached once (`rooms.filters`)."""
    try:
        return positive_int(raw, "page", 1) == 1
    except ValidationError:
        return False  # the numbered pagination answers the 400


class RoomListPagination(CursorPagination):
    """GET /rooms/: cursors (`next` / `previous` carry one), or page numbers when a `page` past the
    first is sent (`?page=1` is the first cursor page; its `next` link carries a cursor, and
    `?page=2`'s `previous` link, which has no `page`, leads back to it).

    The queryset is the filtered list, already in its order (`RoomFilter.qs`): (field, -id).
    """

    page_size = RoomPagination.page_size
    max_page_size = RoomPagination.max_page_size
    page_size_query_param = "page_size"
    ordering = DEFAULT_ORDERING
    cursor_query_description = "Where to continue: the cursor of a `next` or `previous` link (opaque)."

    numbered = None

    def paginate_queryset(self, queryset, request, view=None):
        params = request.query_params
        if "page" in params and "cursor" in params:
            raise ValidationError({"cursor": ["Send either `cursor` or `page`, not both."]})
        if "page" in params and not is_first_page(params["page"]):
            self.numbered = RoomPagination()
            page = self.numbered.paginate_queryset(queryset, request, view)
            self.display_page_controls = self.numbered.display_page_controls
            return page
        self.request = request
        self.page_size = _positive_int(request, "page_size", self.page_size, self.max_page_size)
        self.base_url = remove_query_param(request.build_absolute_uri(), "page")  # `?page=1`: its links walk cursors
        ordering = params.get("ordering") or DEFAULT_ORDERING
        scope = scope_of(ordering, params.get("search", ""), params.get("owner", ""))
        try:
            self.walk = Walk(ordering, scope, self.page_size, self._cursor(params, ordering, scope))
            page = self.walk.page(queryset)
        except (CursorExpired, CursorInvalid) as exc:
            exc.extra = {"first": remove_query_param(self.base_url, self.cursor_query_param)}  # where to start again
            raise
        self.display_page_controls = bool(self.walk.next or self.walk.previous)
        return page

    def _cursor(self, params, ordering, scope):
        if "cursor" not in params:
            return None
        cursor = Cursor.decode(params["cursor"], ordering.lstrip("-"))
        if cursor.scope != scope:
            raise CursorInvalid(
                "This cursor belongs to another ordering or filter of the list; start again from `first`."
            )
        return cursor

    def with_counts(self, rooms):
        """The page's rooms with their current counts (read with the snapshot when there is one)."""
        return counters.with_pending(rooms) if self.numbered else self.walk.with_counts(rooms)

    def link(self, cursor):
        return None if cursor is None else replace_query_param(self.base_url, self.cursor_query_param, cursor.encode())

    def get_next_link(self):
        return self.numbered.get_next_link() if self.numbered else self.link(self.walk.next)

    def get_previous_link(self):
        return self.numbered.get_previous_link() if self.numbered else self.link(self.walk.previous)

    def get_paginated_response(self, data):
        if self.numbered:
            return self.numbered.get_paginated_response(data)
        return Response(
            {
                "count": self.walk.count,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_html_context(self):
        return self.numbered.get_html_context() if self.numbered else super().get_html_context()

    def get_paginated_response_schema(self, schema):
        paged = RoomPagination().get_paginated_response_schema(schema)
        paged["properties"]["next"]["example"] = "http://api.example.org/api/v1/rooms/?cursor=WyJrIiwiYjM..."
        paged["properties"]["previous"]["example"] = None
        return paged

    def get_schema_operation_parameters(self, view):
        numbered = RoomPagination().get_schema_operation_parameters(view)
        cursor = super().get_schema_operation_parameters(view)[0]
        for parameter in numbered:
            if parameter["name"] == "page":
                parameter["description"] = (
                    "A page number (from 1), for clients that count pages; not with `cursor`. Page 1 is"
                    " the first page as without `page`: its `next` link carries a cursor."
                )
        return [cursor, *numbered]


CURSOR_ERROR = inline_serializer(
    "RoomListError",
    {
        "code": serializers.ChoiceField(choices=["cursor_expired", "cursor_invalid", "invalid", "not_found"]),
        "detail": serializers.CharField(),
        "first": serializers.URLField(required=False, help_text="The first page of the same list, to start again."),
        "fields": serializers.DictField(required=False),
    },
)
CURSOR_ERROR_EXAMPLES = [
    OpenApiExample(
        error.default_code,
        status_codes=["400"],
        value={"code": error.default_code, "detail": error.default_detail, "first": f"http://api.example.org{first}"},
    )
    for error, first in ((CursorExpired, "/api/v1/rooms/?ordering=-viewer_count"), (CursorInvalid, "/api/v1/rooms/"))
]
