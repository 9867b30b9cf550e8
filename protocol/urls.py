from django.urls import path

from . import access_log_views, emergency_views, people_views, referral_views, views

app_name = "protocol"

urlpatterns = [
    path("", views.case_list, name="case_list"),
    path("referrals/", referral_views.inbox, name="referral_inbox"),
    path("referrals/<uuid:pk>/", referral_views.referral_detail, name="referral_detail"),
    path("transfers/", emergency_views.transfers_incoming, name="transfers_incoming"),
    path("transfers/<uuid:pk>/answer/", emergency_views.transfer_answer, name="transfer_answer"),
    path("emergency/", emergency_views.emergency_open, name="emergency_open"),
    path("emergency/review/", emergency_views.emergency_review_list, name="emergency_review_list"),
    path("emergency/review/<uuid:pk>/", emergency_views.emergency_review, name="emergency_review"),
    path("<str:number>/", views.case_detail, name="case_detail"),
    path("<str:number>/transfer/", emergency_views.transfer_new, name="transfer_new"),
    path("<str:number>/access-log/", access_log_views.case_access_log, name="case_access_log"),
    path(
        "<str:number>/transfer/<uuid:pk>/cancel/",
        emergency_views.transfer_cancel,
        name="transfer_cancel",
    ),
    path("<str:number>/people/new/", people_views.person_new, name="person_new"),
    path("<str:number>/people/<uuid:pk>/", people_views.person_edit, name="person_edit"),
    path("<str:number>/people/<uuid:pk>/end/", people_views.person_end, name="person_end"),
    path("<str:number>/assessment/", views.assess, name="assess"),
    path("<str:number>/conference/", views.conference, name="conference"),
    path("<str:number>/plan/", views.plan, name="plan"),
    path("<str:number>/plan/actions/new/", views.plan_action_new, name="plan_action_new"),
    path(
        "<str:number>/plan/actions/<uuid:pk>/status/",
        views.plan_action_status,
        name="plan_action_status",
    ),
    path("<str:number>/review/", views.review, name="review"),
    path("<str:number>/closure/", views.closure, name="closure"),
    path("<str:number>/reopen/", views.reopen, name="reopen"),
    path("<str:number>/advance/<slug:action>/", views.advance, name="advance"),
    path("<str:number>/notes/", views.note_add, name="note_add"),
    path("<str:number>/reassign/", views.reassign, name="reassign"),
    path("<str:number>/links/", views.link_add, name="link_add"),
    path("<str:number>/referrals/new/", referral_views.referral_new, name="referral_new"),
    path(
        "<str:number>/referrals/<uuid:pk>/revoke/",
        referral_views.referral_revoke,
        name="referral_revoke",
    ),
]
