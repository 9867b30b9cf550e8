from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DvCasesConfig(AppConfig):
    name = "dv_cases"
    verbose_name = _("Domestic violence")

    def ready(self):
        from django.db.models.signals import post_migrate

        from protocol.apps import restore_default_data

        post_migrate.connect(
            restore_default_data(
                "dv_cases.migrations.0002_default_risk_questionnaire", "add_questionnaire"
            ),
            sender=self,
            weak=False,
            dispatch_uid="dv-cases-default-questionnaire",
        )

        from protocol.access import Part, can_change_case
        from protocol.models import CaseKind
        from protocol.sections import Section, register_action_url, register_section

        from .selectors import active_questionnaire, answered_questions, orders_of

        def incidents(user, case):
            return {
                "incidents": case.incidents.all(),
                "can_add": can_change_case(user, case),
            }

        def risk(user, case):
            assessments = case.risk_assessments.select_related("questionnaire").prefetch_related(
                "questionnaire__questions"
            )
            can_add = can_change_case(user, case)
            return {
                "assessments": [
                    (assessment, answered_questions(assessment)) for assessment in assessments
                ],
                "can_add": can_add,
                "no_questionnaire": can_add and active_questionnaire() is None,
            }

        def orders(user, case):
            orders = orders_of(case)
            return {
                "orders": orders,
                "can_add": can_change_case(user, case),
                "overdue_decisions": [o for o, status in orders if status.is_overdue_decision],
                "expiring": [o for o, status in orders if status.expires_soon],
            }

        def shelter(user, case):
            placements = list(case.shelter_placements.select_related("shelter"))
            return {
                "placements": placements,
                "has_current": any(placement.is_current for placement in placements),
                "can_add": can_change_case(user, case),
            }

        for order, part, title, template, context in [
            (10, Part.INCIDENTS, _("Incidents"), "incidents", incidents),
            (20, Part.RISK, _("Risk assessments"), "risk", risk),
            (30, Part.ORDERS, _("Protection orders"), "orders", orders),
            # Where the victim shelters is as sensitive as her address.
            (40, Part.IDENTITY, _("Shelter"), "shelter", shelter),
        ]:
            register_section(
                Section(
                    kind=CaseKind.DV,
                    part=part,
                    title=title,
                    template=f"dv_cases/sections/{template}.html",
                    context=context,
                    order=order,
                )
            )
        # The protocol's "assess" step of a DV case is this app's questionnaire.
        register_action_url(CaseKind.DV, "assess", "dv_cases:risk_assessment_new")
