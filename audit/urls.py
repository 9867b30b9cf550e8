from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("", views.timeline, name="timeline"),
    path("export.csv", views.export_csv, name="export"),
    path("users/<int:pk>/", views.user_activity, name="user_activity"),
    path("cases/<str:number>/", views.case_activity, name="case_activity"),
    path("flags/", views.flag_list, name="flags"),
    path("flags/<int:pk>/review/", views.flag_review, name="flag_review"),
]
