from django import template

from moderation.models import Report

register = template.Library()


@register.simple_tag
def report_reasons():
    """The reasons a viewer may report a room for: (value, label) pairs."""
    return Report.Reason.choices
