from django.urls import path, re_path
from drf_spectacular.views import SpectacularJSONAPIView
from rest_framework.routers import DefaultRouter

from tracker.api import views

app_name = "api"

router = DefaultRouter()
router.include_format_suffixes = False
router.APIRootView = views.APIRoot
router.register("models", views.AIModelViewSet, basename="model")
router.register("applicants", views.ApplicantViewSet, basename="applicant")
router.register("batches", views.BatchViewSet, basename="batch")
router.register("changes", views.ChangeViewSet, basename="change")

urlpatterns = [
    path("schema/", views.public_answer(SpectacularJSONAPIView.as_view()), name="schema"),
    *router.urls,
    re_path(r"^.*[^/]$", views.add_slash),
    re_path(r"", views.NotFound.as_view(), name="not_found"),
]
