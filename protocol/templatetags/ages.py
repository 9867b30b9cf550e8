"""How long something has waited, as a person says it ("3 days", "just now")."""

from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def waiting_age(since) -> str:
    """`timesince`, except that under a minute is "just now" rather than "0 minutes"."""
    if since is None:
        return ""
    if timezone.now() - since < timedelta(minutes=1):
        return _("just now")
    return timesince(since)
