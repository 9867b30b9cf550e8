"""The admin holds the protocol's configuration only. Cases have no admin page: they
are read through the application, whose one access check the admin would bypass."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import DeadlineSetting, ReopenSetting


@admin.register(DeadlineSetting)
class DeadlineSettingAdmin(SimpleHistoryAdmin):
    list_display = ["key", "municipality", "value", "legal_basis"]
    list_filter = ["key", "municipality"]


@admin.register(ReopenSetting)
class ReopenSettingAdmin(SimpleHistoryAdmin):
    list_display = ["municipality", "stage", "legal_basis"]
