from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("activate/", views.activate, name="activate"),
    path("second-factor/", views.second_factor, name="second_factor"),
    path("second-factor/enrol/", views.enrol, name="enrol"),
    path("me/", views.profile, name="profile"),
    path("me/backup-codes/", views.backup_codes_new, name="backup_codes_new"),
    path("me/password/", views.password_change, name="password_change"),
    path("me/confirm-password/", views.password_confirm, name="password_confirm"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read/", views.notifications_mark_all_read, name="notifications_mark_read"),
    path("notifications/<uuid:pk>/", views.notification_open, name="notification_open"),
    path("manage/", views.manage_list, name="manage_list"),
    path("manage/new/", views.manage_create, name="manage_create"),
    path("manage/approvals/", views.manage_approvals, name="manage_approvals"),
    path(
        "manage/approvals/<int:pk>/approve/",
        views.manage_approve,
        name="manage_approve",
    ),
    path("manage/approvals/<int:pk>/refuse/", views.manage_refuse, name="manage_refuse"),
    path("manage/<int:pk>/", views.manage_detail, name="manage_detail"),
    path(
        "manage/<int:pk>/<slug:action>/confirm/",
        views.manage_confirm,
        name="manage_confirm",
    ),
    path("acts/of-event/<int:event_pk>/", views.administrative_act, name="administrative_act"),
    path(
        "manage/<int:pk>/<slug:action>/",
        views.manage_action,
        name="manage_action",
    ),
]
