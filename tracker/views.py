from django.shortcuts import get_object_or_404, render

from .models import AIModel, Applicant, Batch


def model_detail(request, slug):
    ai_model = get_object_or_404(AIModel.objects.public(), slug=slug)
    return render(request, "tracker/model_detail.html", {"ai_model": ai_model})


def applicant_detail(request, slug):
    applicant = get_object_or_404(Applicant, slug=slug)
    return render(request, "tracker/applicant_detail.html", {"applicant": applicant})


def batch_detail(request, slug):
    batch = get_object_or_404(Batch, slug=slug)
    return render(request, "tracker/batch_detail.html", {"batch": batch})
