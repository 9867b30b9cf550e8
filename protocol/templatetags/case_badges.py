"""A case's stage, risk and next deadline as short badges, in lists and headers.

Tags, not included templates: a list renders them for every row, and an
include costs a template render each time.
"""

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag
def stage_badge(case):
    badge = format_html(
        '<span class="badge badge--stage stage--{}">{}</span>',
        case.stage,
        case.get_stage_display(),
    )
    if not case.risk_level:
        return badge
    return format_html(
        '{} <span class="badge risk--{}">{}: {}</span>',
        badge,
        case.risk_level,
        _("risk"),
        case.get_risk_level_display(),
    )


@register.simple_tag
def due(case):
    if not case.next_due_at:
        return mark_safe("—")
    when = formats.date_format(timezone.localtime(case.next_due_at), "d.m.Y H:i")
    if case.is_overdue:
        return format_html(
            '<span class="overdue">{}: {} {}</span>', _("overdue"), case.next_due_label, when
        )
    return format_html("<span>{} {}</span>", case.next_due_label, when)
