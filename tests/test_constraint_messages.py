"""Every database constraint staff can run into through the admin answers with a sentence
on the field it concerns, never Django's "Constraint “…” is violated."."""

import datetime

import pytest
from django.urls import reverse

from tests.factories import (
    AIModelFactory,
    ApplicantFactory,
    ApprovedModelFactory,
    jurisdiction,
)
from tests.test_admin import change_data
from tracker.admin.forms import CONSTRAINT_MESSAGES
from tracker.models import AIModel, Applicant, Batch, FilingType, Source, Status

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"admin:tracker_{name}", args=args)


def form_errors(response):
    """The errors of the admin form a refused post shows again, by field."""
    assert response.status_code == 200, "the form was accepted"
    form = response.context["adminform"].form
    return {field: list(errors) for field, errors in form.errors.items()}


def message(name):
    return str(CONSTRAINT_MESSAGES[name][1])


def applicant_data(**fields):
    return {
        "name_zh": "",
        "name_en": "",
        "slug": "",
        "jurisdiction": jurisdiction().pk,
        "kind": "private",
        "website": "",
        "parent": "",
        "change_reason": "",
        **fields,
    }


def batch_data(**fields):
    return {
        "title_zh": "",
        "title_en": "",
        "slug": "",
        "announced_on": "2024-04-02",
        "announced_precision": "day",
        "covers_until": "",
        "authority": "Cyberspace Administration of China",
        "source_url": "",
        "description": "",
        "reported_new": "",
        "reported_total": "",
        "reported_registrations_new": "",
        "reported_registrations_total": "",
        "change_reason": "",
        **fields,
    }


def model_add_data(applicant, **fields):
    return {
        "name_zh": "新模型",
        "name_en": "New Model",
        "applicant": applicant.pk,
        "aliases": "",
        "filing_type": FilingType.FILING,
        "scope": "general",
        "on_device_scenario": "",
        "sector": "",
        "upstream": "",
        "entry_status": Status.SUBMITTED,
        "entry_note": "",
        "submitted_on": "2024-05-06",
        "approved_on": "",
        "filing_number": "",
        "batch": "",
        "seq_no": "",
        "description": "",
        "internal_notes": "",
        "history-TOTAL_FORMS": "0",
        "history-INITIAL_FORMS": "0",
        **fields,
    }


@pytest.fixture
def staff(client, editor):
    client.force_login(editor)
    return client


# Applicants -------------------------------------------------------------------------------


def test_an_applicant_without_a_name_is_refused_on_its_chinese_name(staff):
    response = staff.post(url("applicant_add"), applicant_data())
    assert form_errors(response) == {
        "name_zh": ["Give the applicant's Chinese name, its English name, or both."]
    }
    assert not Applicant.objects.exists()


def test_a_second_applicant_with_a_taken_chinese_name_is_refused(staff):
    ApplicantFactory(name_zh="北京百度网讯科技有限公司", name_en="Baidu")
    response = staff.post(
        url("applicant_add"), applicant_data(name_zh="北京百度网讯科技有限公司", name_en="Other")
    )
    assert form_errors(response) == {
        "name_zh": [
            "Another applicant already has this Chinese name: choose that applicant instead."
        ]
    }


def test_a_second_applicant_with_a_taken_english_name_is_refused(staff):
    ApplicantFactory(name_zh="百度", name_en="Baidu")
    response = staff.post(url("applicant_add"), applicant_data(name_zh="其他", name_en="Baidu"))
    assert form_errors(response) == {
        "name_en": [
            "Another applicant already has this English name: choose that applicant instead."
        ]
    }


def test_an_applicant_made_its_own_parent_is_refused_on_the_parent(staff):
    applicant = ApplicantFactory()
    response = staff.post(
        url("applicant_change", applicant.pk),
        applicant_data(name_zh=applicant.name_zh, name_en=applicant.name_en, parent=applicant.pk),
    )
    # The model's own check says it first; the constraint's sentence would say the same.
    assert form_errors(response) == {
        "parent": [f"{applicant} belongs to this group already: that would be a cycle."]
    }
    assert message("applicant_not_its_own_parent") == (
        "An applicant cannot be its own parent group."
    )


# Batches ----------------------------------------------------------------------------------


def test_a_batch_without_a_title_is_refused_on_its_chinese_title(staff):
    response = staff.post(url("batch_add"), batch_data())
    assert form_errors(response) == {
        "title_zh": ["Give the batch's Chinese title, its English title, or both."]
    }
    assert not Batch.objects.exists()


# Models -----------------------------------------------------------------------------------


def test_an_approval_dated_before_the_submission_is_refused_on_the_approval_date(staff):
    ai_model = ApprovedModelFactory(submitted_on=datetime.date(2024, 1, 10))
    response = staff.post(
        url("aimodel_change", ai_model.pk),
        change_data(ai_model, submitted_on="2024-06-01"),
    )
    assert form_errors(response) == {
        "approved_on": [
            "The approval date is before the submission date: a decision follows the submission."
        ]
    }
    assert AIModel.objects.get(pk=ai_model.pk).submitted_on == datetime.date(2024, 1, 10)


def test_a_model_entered_with_an_approval_before_its_submission_is_refused(client, reviewer):
    client.force_login(reviewer)
    response = client.post(
        url("aimodel_add"),
        model_add_data(
            ApplicantFactory(),
            entry_status=Status.APPROVED,
            submitted_on="2024-05-06",
            approved_on="2024-05-01",
        ),
    )
    assert form_errors(response) == {
        "approved_on": [
            "The approval date is before the submission date: a decision follows the submission."
        ]
    }
    assert not AIModel.objects.exists()


def test_a_taken_filing_number_is_refused_once_on_the_filing_number(staff):
    holder = ApprovedModelFactory(filing_number="Beijing-Taken-202401010001")
    ai_model = ApprovedModelFactory()
    response = staff.post(
        url("aimodel_change", ai_model.pk),
        change_data(ai_model, filing_number="Beijing-Taken-202401010001"),
    )
    # The form's own check names the holder, before the constraint could.
    assert form_errors(response) == {
        "filing_number": [
            f"The filing number Beijing-Taken-202401010001 already belongs to {holder}."
        ]
    }


@pytest.mark.parametrize(
    "field, name, expected",
    [
        (
            "name_zh",
            "文心一言",
            "This applicant already has a model of this filing type with this Chinese name.",
        ),
        (
            "name_en",
            "ERNIE Bot",
            "This applicant already has a model of this filing type with this English name.",
        ),
    ],
)
def test_a_second_model_of_an_applicant_with_a_taken_name_is_refused(staff, field, name, expected):
    existing = AIModelFactory(name_zh="文心一言", name_en="ERNIE Bot")
    other = {"name_zh": "别的模型", "name_en": "Another Model"}
    response = staff.post(
        url("aimodel_add"), model_add_data(existing.applicant, **{**other, field: name})
    )
    assert form_errors(response) == {field: [expected]}
    assert AIModel.objects.count() == 1


def test_the_same_name_as_a_registration_and_a_filing_is_allowed(staff):
    existing = AIModelFactory(name_zh="小爱同学AI助手", name_en="")
    response = staff.post(
        url("aimodel_add"),
        model_add_data(
            existing.applicant,
            name_zh="小爱同学AI助手",
            name_en="",
            filing_type=FilingType.REGISTRATION,
        ),
    )
    assert response.status_code == 302
    assert AIModel.objects.count() == 2


def test_a_taken_sequence_number_is_refused_once_on_the_sequence_number(staff):
    holder = ApprovedModelFactory(seq_no=5)
    ai_model = ApprovedModelFactory()
    response = staff.post(url("aimodel_change", ai_model.pk), change_data(ai_model, seq_no="5"))
    # The form's own check names the holder, before the constraint could.
    assert form_errors(response) == {
        "seq_no": [f"No. 5 of the national filings is already {holder}."]
    }


# Sources ----------------------------------------------------------------------------------


def test_a_source_listed_twice_is_refused_on_its_title(staff):
    Source.objects.create(title="新华社报道", url="https://example.com/report")
    response = staff.post(
        url("source_add"),
        {
            "title": "新华社报道",
            "publisher": "",
            "url": "https://example.com/report",
            "published_on": "",
            "summary": "",
        },
    )
    assert form_errors(response) == {
        "title": ["This report is listed already: another source has the same title and address."]
    }
    assert Source.objects.count() == 1


# No constraint speaks Django's generic sentence ------------------------------------------


def test_no_mapped_message_is_django_s_generic_one():
    for name, (field, sentence) in CONSTRAINT_MESSAGES.items():
        assert "is violated" not in str(sentence), name
        assert field, name


def test_every_mapped_name_is_a_constraint_of_the_register():
    names = {
        constraint.name
        for model in (AIModel, Applicant, Batch, Source)
        for constraint in model._meta.constraints
    }
    assert set(CONSTRAINT_MESSAGES) <= names


def test_a_batch_with_one_title_is_saved(staff):
    response = staff.post(url("batch_add"), batch_data(title_zh="第一批"))
    assert response.status_code == 302
    assert Batch.objects.get().title_zh == "第一批"
