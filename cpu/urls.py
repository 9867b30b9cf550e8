from django.urls import path

from . import views

app_name = "cpu"

urlpatterns = [
    path("new/", views.register, name="register"),
    path("<str:number>/measures/new/", views.measure_new, name="measure_new"),
]
