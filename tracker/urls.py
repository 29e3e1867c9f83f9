from django.urls import path

from . import views

app_name = "tracker"

urlpatterns = [
    path("models/<slug:slug>/", views.model_detail, name="model_detail"),
    path("applicants/<slug:slug>/", views.applicant_detail, name="applicant_detail"),
    path("batches/<slug:slug>/", views.batch_detail, name="batch_detail"),
]
