"""The admin shows the risk questionnaires only: case records are read and written
through the case pages, where access is checked (a superuser reads no case)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import RiskQuestion, RiskQuestionnaire


class RiskQuestionInline(admin.TabularInline):
    model = RiskQuestion
    extra = 0
    fields = ["order", "text", "weight", "is_critical"]

    def _in_use(self, obj) -> bool:
        return obj is not None and obj.assessments.exists()

    # The scores of past assessments were computed from these questions: a
    # questionnaire that has been used is replaced by a new one, not edited.
    def has_add_permission(self, request, obj=None):
        return not self._in_use(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not self._in_use(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._in_use(obj) and super().has_delete_permission(request, obj)


@admin.register(RiskQuestionnaire)
class RiskQuestionnaireAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "medium_threshold", "high_threshold", "question_count"]
    inlines = [RiskQuestionInline]

    @admin.display(description=_("questions"))
    def question_count(self, obj):
        return obj.questions.count()

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.assessments.exists():
            return ["name", "medium_threshold", "high_threshold"]
        return []

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.assessments.exists():
            return False
        return super().has_delete_permission(request, obj)
