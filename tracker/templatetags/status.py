from django import template
from django.utils.html import format_html

from ..models import Status, choice_label

register = template.Library()


@register.filter
def status_badge(status):
    """A status as the coloured label every page shows it as."""
    return format_html(
        '<span class="status status-{}">{}</span>', status, choice_label(Status, status)
    )
