from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CpuConfig(AppConfig):
    name = "cpu"
    verbose_name = _("Child protection")

    def ready(self):
        from protocol.access import Part, can_change_case
        from protocol.sections import Section, register_section

        def measures(user, case):
            return {
                "measures": case.protection_measures.select_related("court"),
                "can_add": can_change_case(user, case),
            }

        register_section(
            Section(
                kind="child",
                part=Part.PLAN,
                title=_("Protection measures"),
                template="cpu/sections/measures.html",
                context=measures,
                order=10,
            )
        )
