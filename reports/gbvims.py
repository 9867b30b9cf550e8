"""The forms of violence and protection needs as the six GBVIMS core types of
gender-based violence, for international reporting.

GBVIMS (the Gender-Based Violence Information Management System of UNFPA,
UNHCR, UNICEF and IRC) classifies an incident by the first of its six core
types that applies. Mbrojtje records forms of violence, not incidents typed
that way, so the table below is the agreed reading of each form; a form that
is not gender-based violence in GBVIMS's sense, or too general to place, is
NOT_GBV and is left out of the GBVIMS figures. Every value of
protocol.models.ProtectionNeed must appear here (a test checks it), so that a
new form cannot be left out silently.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from protocol.models import ProtectionNeed


class CoreType(models.TextChoices):
    RAPE = "rape", _("Rape")
    SEXUAL_ASSAULT = "sexual_assault", _("Sexual assault")
    PHYSICAL_ASSAULT = "physical_assault", _("Physical assault")
    FORCED_MARRIAGE = "forced_marriage", _("Forced marriage")
    DENIAL_OF_RESOURCES = "denial_of_resources", _("Denial of resources, opportunities or services")
    PSYCHOLOGICAL_ABUSE = "psychological_abuse", _("Psychological or emotional abuse")


NOT_GBV = None

MAPPING: dict[str, str | None] = {
    # Physical violence that is not sexual.
    ProtectionNeed.PHYSICAL: CoreType.PHYSICAL_ASSAULT,
    # Threats, humiliation, intimidation.
    ProtectionNeed.PSYCHOLOGICAL: CoreType.PSYCHOLOGICAL_ABUSE,
    # The form does not say whether there was penetration, which GBVIMS's "rape"
    # requires; all sexual violence is counted as sexual assault, and rape as none.
    ProtectionNeed.SEXUAL: CoreType.SEXUAL_ASSAULT,
    # Taking earnings, withholding money or property: denial of resources.
    ProtectionNeed.ECONOMIC: CoreType.DENIAL_OF_RESOURCES,
    # Isolation from family and friends: GBVIMS counts forced isolation as emotional abuse.
    ProtectionNeed.SOCIAL: CoreType.PSYCHOLOGICAL_ABUSE,
    # Child-protection needs that are not gender-based violence as GBVIMS defines it,
    # or (abuse, exploitation) too general to place in one core type.
    ProtectionNeed.NEGLECT: NOT_GBV,
    ProtectionNeed.ABANDONMENT: NOT_GBV,
    ProtectionNeed.ABUSE: NOT_GBV,
    ProtectionNeed.EXPLOITATION: NOT_GBV,
    ProtectionNeed.TRAFFICKING: NOT_GBV,
    ProtectionNeed.STREET_SITUATION: NOT_GBV,
}

NOTE = _(
    "Physical violence counts as physical assault; psychological and social violence as "
    "psychological or emotional abuse; economic violence as denial of resources; sexual "
    "violence as sexual assault, because the form does not tell rape apart. No form records "
    "forced marriage. Child-protection needs other than violence are not counted. A case "
    "counts once in each type it has."
)


def needs_by_core_type() -> dict[str, list[str]]:
    """Each core type with the forms counted in it (empty for rape and forced marriage)."""
    return {
        core: [str(need) for need, mapped in MAPPING.items() if mapped == core]
        for core in CoreType.values
    }
