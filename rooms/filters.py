import functools

import django_filters
from django import forms
from django.db.models import Q
from django.http import QueryDict
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from .models import Room
from .pagination import LIST_PAGE_PARAMS, RoomPagination, positive_int, reject_unknown_params

BIGINT = 2**63 - 1  # the largest id PostgreSQL stores


class IntegerFilter(django_filters.NumberFilter):
    """A whole number: `?owner=1.5` is a 400, not owner 1."""

    field_class = forms.IntegerField


ORDERINGS = [("-started_at", "Newest first"), ("-viewer_count", "Most viewers"), ("-like_count", "Most likes")]
DEFAULT_ORDERING = "-started_at"


class RoomFilter(django_filters.FilterSet):
    """Filters of the public list. Unknown values (an `ordering` not offered) and unknown
    parameters are a 400."""

    search = extend_schema_field({"type": "string", "maxLength": 64})(
        django_filters.CharFilter(method="filter_search", max_length=64)
    )
    owner = extend_schema_field({"type": "integer", "minimum": 1, "maximum": BIGINT})(
        IntegerFilter(field_name="owner_id", min_value=1, max_value=BIGINT)
    )
    ordering = django_filters.ChoiceFilter(choices=ORDERINGS, method="filter_ordering")

    class Meta:
        model = Room
        fields = []

    def is_valid(self):
        reject_unknown_params(self.data, [*self.filters, *LIST_PAGE_PARAMS])
        return super().is_valid()

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(owner__nickname__icontains=value))

    def filter_ordering(self, queryset, name, value):
        return queryset  # applied in `qs`, so the default ordering holds when none is given

    @property
    def qs(self):
        ordering = self.form.cleaned_data.get("ordering") or DEFAULT_ORDERING
        return super().qs.order_by(ordering, "-id")


@functools.lru_cache(maxsize=1024)  # the hot list is asked with few distinct query strings
def canonical_query_string(query_string):
    """`canonical_query` of a raw query string (as in QUERY_STRING)."""
    return canonical_query(QueryDict(query_string))


def canonical_query(query):
    """The list's parameters as its filters and pagination read them, in one canonical form, a
    sorted tuple of (name, value): defaults filled in, `search` stripped, numbers as numbers. So
    `?page=01`, `?page=1`, `?page_size=020`, `?search=%20` and no query give the same: page 1 is
    the list's first cursor page however it is asked for; a later `page` pages by number
    (`rooms.cursors`). A cursor is kept as sent. None
    when the list would refuse the query (DRF then answers the 400). Cheap: the filters' own form
    fields, no FilterSet."""
    if not set(query) <= {*RoomFilter.base_filters, *LIST_PAGE_PARAMS} or any(
        len(values) > 1 for _, values in query.lists()
    ):
        return None
    if "page" in query and "cursor" in query:
        return None
    try:
        values = {
            "page": positive_int(query["page"], "page", 1) if "page" in query else None,
            "page_size": positive_int(
                query.get("page_size"), "page_size", RoomPagination.page_size, RoomPagination.max_page_size
            ),
            "cursor": query.get("cursor"),
        }
        for name, room_filter in RoomFilter.base_filters.items():
            values[name] = room_filter.field.clean(query.get(name))
    except (ValidationError, forms.ValidationError):
        return None
    if values["page"] == 1:  # the first cursor page (`rooms.cursors.is_first_page`)
        values["page"] = None
    values["ordering"] = values["ordering"] or DEFAULT_ORDERING
    return tuple(sorted(values.items()))
