"""The public list's one query, behind GET /api/v1/rooms/ and the web list page (`/`) alike.

Its parameter rules are the API's (`RoomFilter`: `search`, `owner`, `ordering`; `page_size`
1-100; see `filters` and `pagination`): the API refuses a bad or unknown one (400), the web page
reads its ordering and page size by the same rules, leniently (`lenient`).
"""

from django import forms
from django_filters.utils import translate_validation

from .filters import DEFAULT_ORDERING, RoomFilter
from .models import Room
from .pagination import RoomPagination, positive_int

ORDERING = RoomFilter.base_filters["ordering"].field


def live_rooms():
    """Live rooms with their owners: the list before its filters."""
    return Room.objects.select_related("owner").live()


def listed(query):
    """The live rooms `query` (the list's query parameters) selects, in the list's order
    (the ordering, then newest id first). A bad or unknown parameter raises ValidationError (400)."""
    room_filter = RoomFilter(query, queryset=live_rooms())
    if not room_filter.is_valid():
        raise translate_validation(room_filter.errors)
    return room_filter.qs


def page_size(query) -> int:
    """`page_size` of `query` (default 20, at most 100); ValidationError for another value."""
    return positive_int(query.get("page_size"), "page_size", RoomPagination.page_size, RoomPagination.max_page_size)


def page_rooms(ids, with_counts):
    """The rooms of a page of `ids`, in that order, through `with_counts` (the page's current
    counts). A room that left the list since its id was read is left out."""
    found = live_rooms().in_bulk(ids)
    return with_counts([found[pk] for pk in ids if pk in found])


def lenient(query) -> dict:
    """The web page's reading of `query` by the same rules: its `ordering` and `page_size`, a value
    the rules refuse becoming the nearest they take (an ordering not offered: the default; a page
    size out of range: clamped to 1-100; not a number: the default). Other parameters are dropped."""
    try:
        ordering = ORDERING.clean(query.get("ordering")) or DEFAULT_ORDERING
    except forms.ValidationError:
        ordering = DEFAULT_ORDERING
    try:
        size = min(max(int(query.get("page_size", RoomPagination.page_size)), 1), RoomPagination.max_page_size)
    except ValueError:
        size = RoomPagination.page_size
    return {"ordering": ordering, "page_size": size}
