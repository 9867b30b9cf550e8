from django.urls import path

from . import views

app_name = "dv_cases"

urlpatterns = [
    path("new/", views.register, name="register"),
    path("<str:number>/incidents/new/", views.incident_new, name="incident_new"),
    path("<str:number>/risk/new/", views.risk_assessment_new, name="risk_assessment_new"),
    path("<str:number>/orders/new/", views.order_new, name="order_new"),
    path("<str:number>/orders/<uuid:pk>/decide/", views.order_decide, name="order_decide"),
    path("<str:number>/orders/<uuid:pk>/breaches/new/", views.breach_new, name="breach_new"),
    path("<str:number>/shelter/new/", views.shelter_new, name="shelter_new"),
    path("<str:number>/shelter/<uuid:pk>/end/", views.shelter_end, name="shelter_end"),
]
