"""The Django admin holds reference data (municipalities, their units, institutions).

Accounts are managed through the account pages, whose services enforce the
rules of roles; here they can only be looked at.
"""

from django.contrib import admin
from django.contrib.auth.models import Group
from simple_history.admin import SimpleHistoryAdmin

from .models import AdministrativeUnit, Institution, Municipality, User

# Groups carry the per-case permissions of roles and institutions, and are found by
# name: renaming one in the admin would hand one role's or institution's cases to
# another. They are made and filled by the code alone (accounts.services).
admin.site.unregister(Group)


class AdministrativeUnitInline(admin.TabularInline):
    model = AdministrativeUnit
    extra = 0


@admin.register(Municipality)
class MunicipalityAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]
    inlines = [AdministrativeUnitInline]


@admin.register(Institution)
class InstitutionAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "municipality", "is_active"]
    list_filter = ["kind", "municipality", "is_active"]
    search_fields = ["name"]


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["username", "municipality", "institution", "is_active"]
    list_filter = ["municipality", "is_active"]
    search_fields = ["username"]
    fields = [
        "username",
        "first_name",
        "last_name",
        "email",
        "municipality",
        "institution",
        "is_active",
        "last_login",
        "date_joined",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
