import django_filters
from django.db.models import Q

from .models import Room
from .pagination import LIST_PAGE_PARAMS, reject_unknown_params

ORDERINGS = [("-started_at", "Newest first"), ("-viewer_count", "Most viewers"), ("-like_count", "Most likes")]
DEFAULT_ORDERING = "-started_at"


class RoomFilter(django_filters.FilterSet):
    """Filters of the public list. Unknown values (an `ordering` not offered) and unknown
    parameters are a 400."""

    search = django_filters.CharFilter(method="filter_search", max_length=64)
    owner = django_filters.NumberFilter(field_name="owner_id", min_value=1)
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
