from django import template

register = template.Library()


@register.filter
def compact(value):
    """1234 → "1.2K", 2500000 → "2.5M": the same format as formatCount() in static/js/app.js."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        return value
    for limit, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K")):
        if n >= limit:
            text = f"{n / limit:.1f}".removesuffix(".0") if n < limit * 100 else str(n // limit)
            return f"{text}{suffix}"
    return str(n)
