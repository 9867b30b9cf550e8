from django.urls import path

from . import meeting_views

app_name = "meetings"

urlpatterns = [
    path("", meeting_views.meeting_list, name="list"),
    path("new/", meeting_views.meeting_new, name="new"),
    path("<uuid:pk>/", meeting_views.meeting_detail, name="detail"),
]
