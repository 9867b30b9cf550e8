from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("yearly/", views.yearly, name="yearly"),
    path("export/<slug:fmt>/", views.export, name="export"),
]
