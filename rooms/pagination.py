from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


def _positive_int(request, name, default, maximum=None):
    return positive_int(request.query_params.get(name), name, default, maximum)


def positive_int(raw, name, default, maximum=None):
    """`raw` (a query value, None when absent) as a whole number from 1 (to `maximum`); 400 otherwise."""
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1 or (maximum is not None and value > maximum):
        bound = f"between 1 and {maximum}" if maximum else "a whole number of at least 1"
        raise ValidationError({name: [f"Must be {bound}; got {raw!r}."]})
    return value


PAGE_PARAMS = ("page", "page_size")
LIST_PAGE_PARAMS = (*PAGE_PARAMS, "cursor")  # the public list also walks by cursor (rooms.cursors)


def reject_unknown_params(query, allowed):
    """400 naming each query parameter a list does not take (a typo must not be silently ignored),
    or that is given more than once. DRF's own `format` is always allowed."""
    unknown = sorted(set(query) - {*allowed, "format"})
    if unknown:
        message = f"Unknown query parameter; this list takes {', '.join(allowed)}."
        raise ValidationError({name: [message] for name in unknown})
    lists = query.lists() if hasattr(query, "lists") else ()  # a QueryDict; the web pages pass a dict
    repeated = sorted(name for name, values in lists if len(values) > 1)
    if repeated:  # `?page=1&page=2`: which one?
        raise ValidationError({name: ["Given more than once; give it once."] for name in repeated})


class RoomPagination(PageNumberPagination):
    """`page` from 1, `page_size` 1-100 (default 20); anything else is a 400."""

    page_size = 20
    max_page_size = 100
    page_size_query_param = "page_size"

    def get_page_size(self, request):
        return _positive_int(request, "page_size", self.page_size, self.max_page_size)

    def get_schema_operation_parameters(self, view):
        page = {"type": "integer", "minimum": 1}
        size = {"type": "integer", "minimum": 1, "maximum": self.max_page_size, "default": self.page_size}
        return [
            {
                "name": "page",
                "in": "query",
                "required": False,
                "allowEmptyValue": True,
                "schema": page,
                "description": "Page number from 1 (empty: 1). A page past the last is a 404.",
            },
            {
                "name": "page_size",
                "in": "query",
                "required": False,
                "allowEmptyValue": True,
                "schema": size,
                "description": f"Rooms per page, 1-{self.max_page_size} (empty: {self.page_size}).",
            },
        ]

    def paginate_queryset(self, queryset, request, view=None):
        _positive_int(request, "page", 1)
        return super().paginate_queryset(queryset, request, view)
