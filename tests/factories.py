import datetime

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from tracker import workflow
from tracker.models import AIModel, Applicant, Batch, Jurisdiction, Status, StatusChange

# Internal notes written into test data, which no public page or file may show.
SECRET = "INTERNAL-ONLY-NOTE"


def days_ago(n):
    """The date ``n`` days before today, in the project's time zone."""
    return timezone.localdate() - datetime.timedelta(days=n)


def jurisdiction(code="BJ"):
    """Jurisdictions come from a data migration; tests look them up rather than make them."""
    return Jurisdiction.objects.get(code=code)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True
    password = factory.django.Password("a-long-test-password")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        for name in extracted or ():
            self.groups.add(Group.objects.get(name=name))


class ApplicantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Applicant

    name_zh = factory.Sequence(lambda n: f"测试科技有限公司{n}")
    name_en = factory.Sequence(lambda n: f"Test Technology {n}")
    jurisdiction = factory.LazyFunction(jurisdiction)


class BatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Batch

    title_en = factory.Sequence(lambda n: f"Batch {n}")
    title_zh = factory.Sequence(lambda n: f"第{n}批")
    announced_on = datetime.date(2024, 4, 2)


S = Status
# The workflow's own steps to each status: the status a record enters the register with,
# then the transitions after it.
PATHS = {
    S.SUBMITTED: [S.SUBMITTED],
    S.PROVINCIAL_REVIEW: [S.PROVINCIAL_REVIEW],
    S.SUPPLEMENT_REQUESTED: [S.PROVINCIAL_REVIEW, S.SUPPLEMENT_REQUESTED],
    S.NATIONAL_REVIEW: [S.NATIONAL_REVIEW],
    S.APPROVED: [S.APPROVED],
    S.REJECTED: [S.PROVINCIAL_REVIEW, S.REJECTED],
    S.WITHDRAWN: [S.SUBMITTED, S.WITHDRAWN],
    S.SUSPENDED: [S.APPROVED, S.SUSPENDED],
    S.CANCELLED: [S.APPROVED, S.CANCELLED],
    S.REVOKED: [S.APPROVED, S.REVOKED],
}


class AIModelFactory(factory.django.DjangoModelFactory):
    """A model entered through the workflow, as staff enter one: ``status`` says where its
    review stands, reached by the workflow's own steps, each dated on the record's latest
    known date. Use ``ApprovedModelFactory`` for a published approval."""

    class Meta:
        model = AIModel

    name_zh = factory.Sequence(lambda n: f"测试大模型{n}")
    name_en = factory.Sequence(lambda n: f"Test Model {n}")
    applicant = factory.SubFactory(ApplicantFactory)
    submitted_on = datetime.date(2024, 1, 10)
    status = Status.SUBMITTED

    @classmethod
    def _create(cls, model_class, *args, status=Status.SUBMITTED, **kwargs):
        ai_model = model_class(*args, **kwargs)
        entry, *steps = PATHS[Status(status)]
        day = ai_model.approved_on or ai_model.submitted_on or datetime.date(2024, 1, 1)
        workflow.enter(ai_model, by=None, status=entry, on=day)
        for step in steps:
            workflow.transition(ai_model, step, by=None, on=day)
        return ai_model


def remove_history(ai_model):
    """Delete a model's history: a state the workflow never leaves, for the checks that
    must find it."""
    StatusChange.objects.filter(model=ai_model).delete()
    return ai_model


class ApprovedModelFactory(AIModelFactory):
    status = Status.APPROVED
    approved_on = datetime.date(2024, 3, 1)
    filing_number = factory.Sequence(lambda n: f"Beijing-Test{n}-20240301{n % 10000:04d}")
    batch = factory.SubFactory(BatchFactory)
