from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language
from django_otp.admin import OTPAdminSite

from . import views

# The admin asks for a verified second factor too (the middleware already
# refuses unverified sessions; this keeps the admin's own check in line).
admin.site.__class__ = OTPAdminSite
admin.site.site_header = "Mbrojtje"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.health, name="health"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("accounts/", include("accounts.urls")),
    path("cases/child/", include("cpu.urls")),
    path("cases/dv/", include("dv_cases.urls")),
    path(
        "cases/<str:number>/documents/",
        include(("protocol.document_urls", "documents")),
    ),
    path("cases/", include("protocol.urls")),
    path("meetings/", include("protocol.meeting_urls")),
    path("audit/", include("audit.urls")),
    path("reports/", include("reports.urls")),
    path("admin/", admin.site.urls),
]
