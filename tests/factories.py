import datetime

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

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


class AIModelFactory(factory.django.DjangoModelFactory):
    """A pending submission; use ``ApprovedModelFactory`` for a published approval."""

    class Meta:
        model = AIModel
        skip_postgeneration_save = True

    name_zh = factory.Sequence(lambda n: f"测试大模型{n}")
    name_en = factory.Sequence(lambda n: f"Test Model {n}")
    applicant = factory.SubFactory(ApplicantFactory)
    submitted_on = datetime.date(2024, 1, 10)
    status = Status.SUBMITTED

    @factory.post_generation
    def history(self, create, extracted, **kwargs):
        """Every record starts with the step that entered it, as ``workflow.enter`` writes."""
        if create and extracted is not False:
            StatusChange.objects.create(
                model=self,
                from_status="",
                to_status=self.status,
                happened_on=self.approved_on or self.submitted_on or datetime.date(2024, 1, 1),
            )


class ApprovedModelFactory(AIModelFactory):
    status = Status.APPROVED
    approved_on = datetime.date(2024, 3, 1)
    filing_number = factory.Sequence(lambda n: f"Beijing-Test{n}-202403010{n:03d}")
    batch = factory.SubFactory(BatchFactory)
