"""URLs of a case's documents, included under cases/<number>/documents/ (namespace documents)."""

from django.urls import path

from . import document_views

urlpatterns = [
    path("upload/", document_views.upload, name="upload"),
    path("<uuid:pk>/", document_views.download, name="download"),
]
