import datetime

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    AIModelFactory,
    ApplicantFactory,
    ApprovedModelFactory,
    BatchFactory,
    UserFactory,
    jurisdiction,
)
from tracker import workflow
from tracker.models import AIModel, Applicant, Batch, FilingType, Status, StatusChange

pytestmark = pytest.mark.django_db

S = Status
CHANGE_FORM_ACTION = "CHANGE_FORM-action"


def url(name, *args):
    return reverse(f"admin:tracker_{name}", args=args)


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", password=None)


def logged_in(client, user):
    client.force_login(user)
    return client


def change_data(ai_model, **changes):
    """The AI model change form as the browser posts it, read at the model's version."""
    data = {
        "name_zh": ai_model.name_zh,
        "name_en": ai_model.name_en,
        "slug": ai_model.slug,
        "aliases": ai_model.aliases,
        "applicant": ai_model.applicant_id,
        "filing_type": ai_model.filing_type,
        "on_device_scenario": ai_model.on_device_scenario,
        "scope": ai_model.scope,
        "sector": ai_model.sector,
        "upstream": ai_model.upstream_id or "",
        "submitted_on": ai_model.submitted_on or "",
        "approved_on": ai_model.approved_on or "",
        **({"approved_on_estimated": "on"} if ai_model.approved_on_estimated else {}),
        "filing_number": ai_model.filing_number,
        "batch": ai_model.batch_id or "",
        "seq_no": ai_model.seq_no or "",
        "description": ai_model.description,
        "internal_notes": ai_model.internal_notes,
        "change_reason": "Corrected from the published list.",
        "read_version": ai_model.version,
        "history-TOTAL_FORMS": "0",
        "history-INITIAL_FORMS": "0",
        "_save": "Save",
    }
    data.update(changes)
    return data


def add_data(applicant, **changes):
    data = {
        "name_zh": "新模型",
        "name_en": "New Model",
        "applicant": applicant.pk,
        "filing_type": FilingType.FILING,
        "scope": "general",
        "sector": "",
        "upstream": "",
        "entry_status": S.SUBMITTED,
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
        "_save": "Save",
    }
    data.update(changes)
    return data


def start_step(client, step, *models):
    """Choose a review action on the list: the confirmation page comes back."""
    return client.post(
        url("aimodel_changelist"),
        {"action": step, "_selected_action": [m.pk for m in models]},
    )


def confirm_step(client, step, *models, **fields):
    data = {
        "action": step,
        "_selected_action": [m.pk for m in models],
        "happened_on": timezone.localdate().isoformat(),
        "note": "",
        "apply": "Confirm",
        **fields,
    }
    return client.post(url("aimodel_changelist"), data, follow=True)


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def history_count(ai_model):
    return StatusChange.objects.filter(model=ai_model).count()


def model_at(status, **kwargs):
    if status in (S.APPROVED, S.SUSPENDED):
        return ApprovedModelFactory(status=status, **kwargs)
    return AIModelFactory(status=status, **kwargs)


# Pages load ------------------------------------------------------------------------------


def test_the_admin_is_titled_with_the_project_name(client, superuser):
    response = logged_in(client, superuser).get(reverse("admin:index"))
    assert "Generative AI approval tracker" in response.content.decode()


@pytest.mark.parametrize("model", ["jurisdiction", "applicant", "aimodel", "batch", "statuschange"])
@pytest.mark.parametrize("query", ["", "?q=测试", "?q=Test", "?q=Beijing-Test"])
def test_every_changelist_loads_and_searches(client, superuser, model, query):
    ApprovedModelFactory()
    response = logged_in(client, superuser).get(url(f"{model}_changelist") + query)
    assert response.status_code == 200


def test_searching_models_matches_applicant_names_and_filing_numbers(client, superuser):
    found = ApprovedModelFactory(
        filing_number="Beijing-Findme-202401010001",
        applicant=ApplicantFactory(name_zh="北京深度求索", name_en="DeepSeek"),
    )
    other = ApprovedModelFactory()
    client = logged_in(client, superuser)
    for term in ("Findme", "深度求索", "deepseek"):
        response = client.get(url("aimodel_changelist"), {"q": term})
        shown = list(response.context["cl"].result_list)
        assert found in shown and other not in shown


@pytest.mark.parametrize("model", ["applicant", "aimodel", "batch"])
def test_add_pages_load(client, superuser, model):
    response = logged_in(client, superuser).get(url(f"{model}_add"))
    assert response.status_code == 200


def test_change_pages_load_for_every_model(client, superuser):
    ai_model = ApprovedModelFactory(internal_notes="Source: a phone call")
    step = ai_model.history.get()
    client = logged_in(client, superuser)
    pages = [
        url("jurisdiction_change", jurisdiction("BJ").pk),
        url("applicant_change", ai_model.applicant.pk),
        url("batch_change", ai_model.batch.pk),
        url("aimodel_change", ai_model.pk),
        url("statuschange_change", step.pk),
    ]
    for page in pages:
        assert client.get(page).status_code == 200, page


def test_model_page_shows_status_read_only_with_history_and_internal_notes(client, reviewer):
    ai_model = AIModelFactory(internal_notes="Heard from the applicant")
    response = logged_in(client, reviewer).get(url("aimodel_change", ai_model.pk))
    form = response.context["adminform"].form
    assert "status" not in form.fields
    assert "internal_notes" in form.fields
    (inline,) = response.context["inline_admin_formsets"]
    assert inline.has_add_permission is False
    assert inline.has_change_permission is False
    assert inline.has_delete_permission is False
    assert len(inline.formset.forms) == 1


# Query counts ----------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [2, 12])
def test_model_changelist_query_count_does_not_grow_with_rows(
    client, reviewer, django_assert_num_queries, session_reads, rows
):
    for _ in range(rows):
        ApprovedModelFactory()
    client = logged_in(client, reviewer)
    # session, user, user's own and group permissions, the jurisdiction and batch filters,
    # the count (no full count on top), the rows with applicant and batch.
    with django_assert_num_queries(session_reads + 7):
        response = client.get(url("aimodel_changelist"))
    assert len(response.context["cl"].result_list) == rows


@pytest.mark.parametrize("rows", [2, 12])
def test_applicant_changelist_query_count_does_not_grow_with_rows(
    client, reviewer, django_assert_num_queries, session_reads, rows
):
    for _ in range(rows):
        AIModelFactory()
    client = logged_in(client, reviewer)
    # session, user, user's own and group permissions, the jurisdiction filter,
    # the count, the rows with jurisdiction and model counts.
    with django_assert_num_queries(session_reads + 6):
        response = client.get(url("applicant_changelist"))
    assert len(response.context["cl"].result_list) == rows


# Adding a model --------------------------------------------------------------------------


def test_adding_a_model_enters_it_with_one_status_change(client, reviewer):
    applicant = ApplicantFactory()
    response = logged_in(client, reviewer).post(
        url("aimodel_add"),
        add_data(applicant, entry_status=S.NATIONAL_REVIEW, entry_note="Reported by Caixin"),
    )
    assert response.status_code == 302
    ai_model = AIModel.objects.get(name_en="New Model")
    assert ai_model.status == S.NATIONAL_REVIEW
    step = ai_model.history.get()
    assert (step.from_status, step.to_status) == ("", S.NATIONAL_REVIEW)
    assert step.recorded_by == reviewer
    assert step.note == "Reported by Caixin"
    assert step.happened_on == datetime.date(2024, 5, 6)


def test_adding_an_approved_model_records_the_approval_date(client, reviewer):
    applicant = ApplicantFactory()
    response = logged_in(client, reviewer).post(
        url("aimodel_add"),
        add_data(
            applicant,
            entry_status=S.APPROVED,
            approved_on="2024-06-01",
            filing_number="Beijing-New-202406010001",
        ),
    )
    assert response.status_code == 302
    ai_model = AIModel.objects.get(name_en="New Model")
    assert (ai_model.status, ai_model.approved_on) == (S.APPROVED, datetime.date(2024, 6, 1))
    assert ai_model.history.get().to_status == S.APPROVED


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"entry_status": S.APPROVED}, "approved_on", "needs its approval date"),
        ({"approved_on": "2024-06-01"}, "approved_on", "Only an approved record"),
        (
            {"entry_status": S.NATIONAL_REVIEW, "filing_type": FilingType.REGISTRATION},
            "entry_status",
            "never nationally",
        ),
        ({"entry_status": S.REJECTED}, "entry_status", "Select a valid choice"),
        ({"entry_status": "nonsense"}, "entry_status", "Select a valid choice"),
        ({"submitted_on": "2024-13-45"}, "submitted_on", "Enter a valid date"),
        ({"submitted_on": "2999-01-01"}, "submitted_on", "in the future"),
        (
            {"entry_status": S.APPROVED, "approved_on": "2999-01-01"},
            "approved_on",
            "in the future",
        ),
    ],
)
def test_adding_a_model_refuses_an_inconsistent_entry(client, reviewer, changes, field, message):
    applicant = ApplicantFactory()
    response = logged_in(client, reviewer).post(url("aimodel_add"), add_data(applicant, **changes))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors[field])
    assert not AIModel.objects.exists()
    assert not StatusChange.objects.exists()


@pytest.mark.parametrize("status", [S.PROVINCIAL_REVIEW, S.NATIONAL_REVIEW, S.APPROVED])
def test_an_editor_enters_records_only_as_new_submissions(client, editor, status):
    applicant = ApplicantFactory()
    client = logged_in(client, editor)
    choices = client.get(url("aimodel_add")).context["adminform"].form.fields["entry_status"]
    assert [value for value, _label in choices.choices] == [S.SUBMITTED]

    response = client.post(
        url("aimodel_add"), add_data(applicant, entry_status=status, approved_on="2024-06-01")
    )

    assert response.status_code == 200
    assert "Select a valid choice" in " ".join(
        response.context["adminform"].form.errors["entry_status"]
    )
    assert not AIModel.objects.exists()


def test_a_registration_enters_as_approved_only_once_its_upstream_is_approved(client, reviewer):
    upstream = AIModelFactory(filing_type=FilingType.FILING)
    registration = add_data(
        ApplicantFactory(),
        filing_type=FilingType.REGISTRATION,
        upstream=upstream.pk,
        entry_status=S.APPROVED,
        approved_on="2024-06-01",
    )

    response = logged_in(client, reviewer).post(url("aimodel_add"), registration)

    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.errors["entry_status"])
    assert "once the model it calls is approved" in errors
    assert AIModel.objects.count() == 1


def test_adding_a_model_with_a_taken_filing_number_is_refused(client, reviewer):
    taken = ApprovedModelFactory()
    response = logged_in(client, reviewer).post(
        url("aimodel_add"),
        add_data(
            ApplicantFactory(),
            entry_status=S.APPROVED,
            approved_on="2024-06-01",
            filing_number=f" {taken.filing_number} ",
        ),
    )
    assert response.status_code == 200
    assert "filing_number" in response.context["adminform"].form.errors
    assert AIModel.objects.count() == 1


# Review actions --------------------------------------------------------------------------

STEPS = [
    ("move_to_provincial_review", S.SUBMITTED, S.PROVINCIAL_REVIEW),
    ("request_supplement", S.PROVINCIAL_REVIEW, S.SUPPLEMENT_REQUESTED),
    ("move_to_national_review", S.PROVINCIAL_REVIEW, S.NATIONAL_REVIEW),
    ("approve", S.NATIONAL_REVIEW, S.APPROVED),
    ("reject", S.NATIONAL_REVIEW, S.REJECTED),
    ("withdraw", S.SUBMITTED, S.WITHDRAWN),
    ("suspend", S.APPROVED, S.SUSPENDED),
    ("reinstate", S.SUSPENDED, S.APPROVED),
    ("cancel", S.APPROVED, S.CANCELLED),
    ("revoke", S.APPROVED, S.REVOKED),
]


@pytest.mark.parametrize("step, from_status, to_status", STEPS)
def test_a_reviewer_applies_each_review_action_from_the_list(
    client, reviewer, step, from_status, to_status
):
    ai_model = model_at(from_status)
    steps = history_count(ai_model)
    client = logged_in(client, reviewer)

    page = start_step(client, step, ai_model)
    assert page.status_code == 200
    assert "happened_on" in page.context["form"].fields

    response = confirm_step(client, step, ai_model, note="From the CAC notice")
    ai_model.refresh_from_db()
    assert ai_model.status == to_status
    last = ai_model.history.order_by("-pk").first()
    assert (last.from_status, last.to_status) == (from_status, to_status)
    assert (last.recorded_by, last.note) == (reviewer, "From the CAC notice")
    assert history_count(ai_model) == steps + 1
    assert any("moved to" in message for message in messages_of(response))


def test_approving_sets_date_batch_and_filing_number(client, reviewer):
    ai_model = AIModelFactory(status=S.NATIONAL_REVIEW)
    batch = BatchFactory()
    confirm_step(
        logged_in(client, reviewer),
        "approve",
        ai_model,
        happened_on="2024-04-01",
        batch=batch.pk,
        filing_number="Beijing-Approved-202404010001",
    )
    ai_model.refresh_from_db()
    assert ai_model.status == S.APPROVED
    assert ai_model.approved_on == datetime.date(2024, 4, 1)
    assert ai_model.batch == batch
    assert ai_model.filing_number == "Beijing-Approved-202404010001"


def test_the_approval_form_asks_for_batch_and_filing_number_and_others_do_not(client, reviewer):
    ai_model = AIModelFactory(status=S.NATIONAL_REVIEW)
    client = logged_in(client, reviewer)
    approve = start_step(client, "approve", ai_model).context["form"]
    reject = start_step(client, "reject", ai_model).context["form"]
    assert {"batch", "filing_number"} <= set(approve.fields)
    assert not {"batch", "filing_number"} & set(reject.fields)


def test_a_review_action_moves_several_models_at_once(client, reviewer):
    models = [AIModelFactory() for _ in range(3)]
    response = confirm_step(logged_in(client, reviewer), "move_to_provincial_review", *models)
    assert AIModel.objects.filter(status=S.PROVINCIAL_REVIEW).count() == 3
    assert "3 models moved to “Provincial review”." in messages_of(response)


def test_a_refused_transition_shows_the_reason_and_changes_nothing(client, reviewer):
    ai_model = AIModelFactory(status=S.SUBMITTED)
    client = logged_in(client, reviewer)
    page = start_step(client, "approve", ai_model)
    assert "Will be refused" in page.content.decode()

    response = confirm_step(client, "approve", ai_model)
    assert response.status_code == 200
    (message,) = messages_of(response)
    assert "cannot go from “Submitted” to “Approved”" in message
    ai_model.refresh_from_db()
    assert ai_model.status == S.SUBMITTED
    assert history_count(ai_model) == 1


def test_one_refusal_does_not_stop_the_other_selected_models(client, reviewer):
    ready = AIModelFactory(status=S.NATIONAL_REVIEW)
    early = AIModelFactory(status=S.SUBMITTED)
    response = confirm_step(logged_in(client, reviewer), "approve", ready, early)
    assert AIModel.objects.get(pk=ready.pk).status == S.APPROVED
    assert AIModel.objects.get(pk=early.pk).status == S.SUBMITTED
    assert len(messages_of(response)) == 2


@pytest.mark.parametrize(
    "step, status, message",
    [
        ("reinstate", S.APPROVED, "Only a suspended model can be reinstated."),
        ("approve", S.SUSPENDED, "reinstated, not approved again"),
    ],
)
def test_approve_and_reinstate_each_keep_to_their_own_case(client, reviewer, step, status, message):
    ai_model = model_at(status)
    response = confirm_step(logged_in(client, reviewer), step, ai_model)
    assert message in messages_of(response)[0]
    assert AIModel.objects.get(pk=ai_model.pk).status == status


@pytest.mark.parametrize(
    "fields, error",
    [
        ({"happened_on": ""}, "Enter the date this step happened."),
        ({"happened_on": "not a date"}, "Enter a valid date."),
        ({"batch": "999999"}, "Select a valid choice."),
    ],
)
def test_approving_with_a_bad_form_shows_the_error_and_changes_nothing(
    client, reviewer, fields, error
):
    ai_model = AIModelFactory(status=S.NATIONAL_REVIEW)
    response = confirm_step(logged_in(client, reviewer), "approve", ai_model, **fields)
    assert response.status_code == 200
    assert error in response.content.decode()
    ai_model.refresh_from_db()
    assert ai_model.status == S.NATIONAL_REVIEW
    assert history_count(ai_model) == 1


def test_approving_with_a_taken_filing_number_shows_a_clear_error(client, reviewer):
    holder = ApprovedModelFactory(filing_number="Beijing-Taken-202401010001")
    ai_model = AIModelFactory(status=S.NATIONAL_REVIEW)
    response = confirm_step(
        logged_in(client, reviewer), "approve", ai_model, filing_number="Beijing-Taken-202401010001"
    )
    errors = response.context["form"].errors["filing_number"]
    assert errors == [f"The filing number Beijing-Taken-202401010001 already belongs to {holder}."]
    assert AIModel.objects.get(pk=ai_model.pk).status == S.NATIONAL_REVIEW


def test_one_filing_number_cannot_be_given_to_several_models(client, reviewer):
    models = [AIModelFactory(status=S.NATIONAL_REVIEW) for _ in range(2)]
    response = confirm_step(
        logged_in(client, reviewer), "approve", *models, filing_number="Beijing-Two-202401010001"
    )
    assert "one at a time" in response.context["form"].errors["filing_number"][0]
    assert not AIModel.objects.filter(status=S.APPROVED).exists()


def test_a_future_date_is_refused_with_the_reason(client, reviewer):
    ai_model = AIModelFactory()
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = confirm_step(
        logged_in(client, reviewer),
        "move_to_provincial_review",
        ai_model,
        happened_on=tomorrow.isoformat(),
    )
    assert response.context["form"].errors["happened_on"] == [
        f"The date {tomorrow.isoformat()} is in the future."
    ]
    assert AIModel.objects.get(pk=ai_model.pk).status == S.SUBMITTED


def test_a_step_confirmed_after_someone_else_moved_the_model_is_refused(client, reviewer):
    ai_model = AIModelFactory(status=S.NATIONAL_REVIEW)
    client = logged_in(client, reviewer)
    page = start_step(client, "reject", ai_model)
    seen = f'name="seen_{ai_model.pk}" value="{ai_model.version}"'
    assert seen in page.content.decode()
    # Rejecting is allowed from both statuses: only the version tells the change apart.
    workflow.transition(AIModel.objects.get(pk=ai_model.pk), S.SUPPLEMENT_REQUESTED, by=None)

    response = confirm_step(
        client,
        "reject",
        ai_model,
        note="Refused by the CAC.",
        **{f"seen_{ai_model.pk}": ai_model.version},
    )
    assert "Reload it and try again." in messages_of(response)[0]
    ai_model.refresh_from_db()
    assert ai_model.status == S.SUPPLEMENT_REQUESTED
    assert history_count(ai_model) == 2


@pytest.mark.parametrize("seen", ["", "²", "9" * 40, "-1", "1 OR 1=1"])
def test_a_tampered_seen_version_is_refused_without_error(client, reviewer, seen):
    ai_model = AIModelFactory()
    response = confirm_step(
        logged_in(client, reviewer),
        "move_to_provincial_review",
        ai_model,
        **{f"seen_{ai_model.pk}": seen},
    )
    assert response.status_code == 200
    assert "Reload it and try again." in messages_of(response)[0]
    assert AIModel.objects.get(pk=ai_model.pk).status == S.SUBMITTED


def test_a_models_page_offers_only_its_allowed_steps(client, reviewer):
    ai_model = AIModelFactory(status=S.PROVINCIAL_REVIEW)
    response = logged_in(client, reviewer).get(url("aimodel_change", ai_model.pk))
    offered = [step.name for step in response.context["review_steps"]]
    assert offered == ["request_supplement", "move_to_national_review", "reject", "withdraw"]
    assert f'value="{offered[0]}"' in response.content.decode()


def test_a_reviewer_applies_a_step_from_the_models_own_page(client, reviewer):
    ai_model = AIModelFactory(status=S.NATIONAL_REVIEW)
    client = logged_in(client, reviewer)
    page_url = url("aimodel_change", ai_model.pk)
    chosen = {CHANGE_FORM_ACTION: "approve", "_selected_action": ai_model.pk}

    page = client.post(page_url, chosen)
    assert page.status_code == 200
    assert "filing_number" in page.context["form"].fields

    response = client.post(
        page_url,
        {**chosen, "happened_on": "2024-04-01", "note": "", "apply": "Confirm"},
    )
    assert response.status_code == 302
    assert response.url == page_url
    ai_model.refresh_from_db()
    assert (ai_model.status, ai_model.approved_on) == (S.APPROVED, datetime.date(2024, 4, 1))


# Editors ---------------------------------------------------------------------------------


def test_an_editor_is_not_offered_review_actions(client, editor):
    ai_model = AIModelFactory(status=S.NATIONAL_REVIEW)
    client = logged_in(client, editor)
    changelist = client.get(url("aimodel_changelist")).content.decode()
    assert 'value="approve"' not in changelist
    page = client.get(url("aimodel_change", ai_model.pk))
    assert "review_steps" not in page.context
    assert 'value="approve"' not in page.content.decode()


def test_an_editor_cannot_apply_a_review_action_from_the_list(client, editor):
    ai_model = AIModelFactory(status=S.NATIONAL_REVIEW)
    response = confirm_step(logged_in(client, editor), "approve", ai_model)
    assert response.status_code == 200
    assert not any("moved to" in message for message in messages_of(response))
    ai_model.refresh_from_db()
    assert ai_model.status == S.NATIONAL_REVIEW
    assert history_count(ai_model) == 1


def test_an_editor_cannot_apply_a_review_action_from_the_models_page(client, editor):
    ai_model = AIModelFactory(status=S.NATIONAL_REVIEW)
    client.force_login(editor)
    client.post(
        url("aimodel_change", ai_model.pk),
        {
            CHANGE_FORM_ACTION: "approve",
            "_selected_action": ai_model.pk,
            "happened_on": "2024-04-01",
            "apply": "Confirm",
        },
    )
    ai_model.refresh_from_db()
    assert ai_model.status == S.NATIONAL_REVIEW
    assert history_count(ai_model) == 1


APPROVAL_FIELDS = {"approved_on", "approved_on_estimated", "filing_number", "batch", "seq_no"}


def test_an_editors_add_form_has_no_approval_fields(client, editor):
    response = logged_in(client, editor).get(url("aimodel_add"))

    fields = set(response.context["adminform"].form.fields)
    assert fields & APPROVAL_FIELDS == set()
    assert {"entry_status", "entry_note", "submitted_on"} <= fields
    assert 'name="filing_number"' not in response.content.decode()


def test_a_reviewers_add_form_keeps_the_approval_fields(client, reviewer):
    response = logged_in(client, reviewer).get(url("aimodel_add"))

    assert set(response.context["adminform"].form.fields) >= APPROVAL_FIELDS


def test_approval_fields_posted_by_an_editor_are_ignored(client, editor):
    batch = BatchFactory()
    response = logged_in(client, editor).post(
        url("aimodel_add"),
        add_data(
            ApplicantFactory(), filing_number="Beijing-New-202406010001", batch=batch.pk, seq_no="7"
        ),
    )

    assert response.status_code == 302
    ai_model = AIModel.objects.get(name_en="New Model")
    assert (ai_model.status, ai_model.filing_number, ai_model.batch, ai_model.seq_no) == (
        S.SUBMITTED,
        "",
        None,
        None,
    )


def test_an_editors_model_page_says_a_reviewer_moves_it_on(client, editor):
    ai_model = AIModelFactory(status=S.NATIONAL_REVIEW)

    page = logged_in(client, editor).get(url("aimodel_change", ai_model.pk)).content.decode()

    assert "A Reviewer moves this model on to its next review step." in page


def test_a_reviewers_model_page_has_no_such_notice(client, reviewer):
    ai_model = AIModelFactory(status=S.NATIONAL_REVIEW)

    page = logged_in(client, reviewer).get(url("aimodel_change", ai_model.pk)).content.decode()

    assert "A Reviewer moves this model on" not in page


def test_an_editor_corrects_the_review_fields_of_a_published_model_but_not_its_status(
    client, editor
):
    ai_model = ApprovedModelFactory()
    page = logged_in(client, editor).get(url("aimodel_change", ai_model.pk))
    form = page.context["adminform"].form
    assert set(form.fields) >= APPROVAL_FIELDS
    assert "status" not in form.fields

    response = client.post(
        url("aimodel_change", ai_model.pk),
        change_data(ai_model, filing_number="Beijing-Corrected-202403010001"),
    )

    assert response.status_code == 302
    saved = AIModel.objects.get(pk=ai_model.pk)
    assert (saved.filing_number, saved.status) == ("Beijing-Corrected-202403010001", S.APPROVED)


# Editing a model -------------------------------------------------------------------------


def test_editing_a_model_saves_the_form_bumps_the_version_and_keeps_the_status(client, editor):
    ai_model = AIModelFactory(status=S.NATIONAL_REVIEW)
    response = logged_in(client, editor).post(
        url("aimodel_change", ai_model.pk),
        change_data(ai_model, name_en="  Renamed  Model ", internal_notes="Call back in May"),
    )
    assert response.status_code == 302
    saved = AIModel.objects.get(pk=ai_model.pk)
    assert saved.name_en == "Renamed Model"
    assert saved.internal_notes == "Call back in May"
    assert saved.version == ai_model.version + 1
    assert saved.status == S.NATIONAL_REVIEW
    assert history_count(saved) == 1


def test_a_posted_status_is_ignored(client, editor):
    ai_model = AIModelFactory(status=S.SUBMITTED)
    logged_in(client, editor).post(
        url("aimodel_change", ai_model.pk), change_data(ai_model, status=S.APPROVED)
    )
    assert AIModel.objects.get(pk=ai_model.pk).status == S.SUBMITTED


def test_a_second_editor_saving_a_stale_form_is_refused(client, editor):
    ai_model = AIModelFactory()
    first, second = change_data(ai_model), change_data(ai_model)
    other_editor = UserFactory(groups=["Editors"])

    client.force_login(other_editor)
    first["name_en"] = "First edit"
    assert client.post(url("aimodel_change", ai_model.pk), first).status_code == 302

    client.force_login(editor)
    second["name_en"] = "Second edit"
    response = client.post(url("aimodel_change", ai_model.pk), second)
    assert response.status_code == 200
    assert "changed by someone else while you were editing" in response.content.decode()
    assert AIModel.objects.get(pk=ai_model.pk).name_en == "First edit"


def test_a_form_read_before_a_transition_is_refused(client, editor):
    ai_model = AIModelFactory()
    stale = change_data(ai_model, internal_notes="Edited")
    workflow.transition(ai_model, S.PROVINCIAL_REVIEW, by=None)
    response = logged_in(client, editor).post(url("aimodel_change", ai_model.pk), stale)
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    saved = AIModel.objects.get(pk=ai_model.pk)
    assert (saved.status, saved.internal_notes) == (S.PROVINCIAL_REVIEW, "")


@pytest.mark.parametrize("read_version", ["", "abc", "-1"])
def test_a_form_without_a_sound_read_version_is_refused(client, editor, read_version):
    ai_model = AIModelFactory()
    response = logged_in(client, editor).post(
        url("aimodel_change", ai_model.pk),
        change_data(ai_model, name_en="Tampered", read_version=read_version),
    )
    assert response.status_code == 200
    assert AIModel.objects.get(pk=ai_model.pk).name_en != "Tampered"


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"approved_on": ""}, "approved_on"),
        # Before the submission: the database's constraint, said on the field.
        ({"approved_on": "2023-12-01"}, "approved_on"),
        ({"filing_number": "TAKEN"}, "filing_number"),
    ],
)
def test_editing_an_approved_model_into_an_inconsistent_state_is_refused(
    client, editor, changes, field
):
    ApprovedModelFactory(filing_number="TAKEN")
    ai_model = ApprovedModelFactory(submitted_on=datetime.date(2024, 1, 10))
    response = logged_in(client, editor).post(
        url("aimodel_change", ai_model.pk), change_data(ai_model, **changes)
    )
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors[field or "__all__"]
    assert AIModel.objects.get(pk=ai_model.pk).version == ai_model.version


def test_a_model_cannot_name_itself_as_upstream(client, editor):
    ai_model = AIModelFactory(filing_type=FilingType.REGISTRATION)
    response = logged_in(client, editor).post(
        url("aimodel_change", ai_model.pk), change_data(ai_model, upstream=ai_model.pk)
    )
    assert "upstream" in response.context["adminform"].form.errors


def test_upstream_autocomplete_offers_filings_only(client, editor):
    filing = AIModelFactory(name_en="Base Model")
    AIModelFactory(name_en="Base Model App", filing_type=FilingType.REGISTRATION)
    response = logged_in(client, editor).get(
        reverse("admin:autocomplete"),
        {"app_label": "tracker", "model_name": "aimodel", "field_name": "upstream", "term": "Base"},
    )
    assert [r["id"] for r in response.json()["results"]] == [str(filing.pk)]


def test_a_registration_is_refused_as_upstream(client, editor):
    other = AIModelFactory(filing_type=FilingType.REGISTRATION)
    ai_model = AIModelFactory(filing_type=FilingType.REGISTRATION)
    response = logged_in(client, editor).post(
        url("aimodel_change", ai_model.pk), change_data(ai_model, upstream=other.pk)
    )
    assert "upstream" in response.context["adminform"].form.errors
    assert AIModel.objects.get(pk=ai_model.pk).upstream_id is None


def test_applicant_and_batch_autocompletes_page_in_a_stable_order(client, editor):
    for name in ("Gamma Labs", "Alpha Labs", "Beta Labs"):
        AIModelFactory(applicant=ApplicantFactory(name_en=name))
    response = logged_in(client, editor).get(
        reverse("admin:autocomplete"),
        {
            "app_label": "tracker",
            "model_name": "aimodel",
            "field_name": "applicant",
            "term": "Labs",
        },
    )
    assert [r["text"] for r in response.json()["results"]] == [
        str(a) for a in Applicant.objects.filter(name_en__endswith="Labs").order_by("name_en")
    ]


# History and deletion --------------------------------------------------------------------


@pytest.mark.parametrize("who", ["superuser", "editor", "reviewer"])
def test_nobody_can_change_or_delete_a_status_change(client, request, who):
    user = request.getfixturevalue(who)
    step = ApprovedModelFactory().history.get()
    client = logged_in(client, user)

    view = client.get(url("statuschange_change", step.pk))
    assert view.status_code == 200
    assert view.context["has_change_permission"] is False
    assert client.post(url("statuschange_change", step.pk), {"note": "x"}).status_code == 403
    assert client.get(url("statuschange_delete", step.pk)).status_code == 403
    assert client.post(url("statuschange_delete", step.pk), {"post": "yes"}).status_code == 403
    assert client.get(url("statuschange_add")).status_code == 403
    client.post(
        url("statuschange_changelist"),
        {"action": "delete_selected", "_selected_action": [step.pk], "post": "yes"},
    )
    step.refresh_from_db()
    assert step.note == ""


def test_history_posted_through_the_model_form_is_ignored(client, superuser):
    ai_model = AIModelFactory()
    step = ai_model.history.get()
    data = change_data(
        ai_model,
        **{
            "history-TOTAL_FORMS": "1",
            "history-INITIAL_FORMS": "1",
            "history-0-id": step.pk,
            "history-0-model": ai_model.pk,
            "history-0-note": "Rewritten",
            "history-0-to_status": S.APPROVED,
            "history-0-DELETE": "on",
        },
    )
    logged_in(client, superuser).post(url("aimodel_change", ai_model.pk), data)
    step.refresh_from_db()
    assert (step.note, step.to_status) == ("", S.SUBMITTED)


def test_deleting_a_model_with_history_shows_the_protected_page(client, superuser):
    ai_model = AIModelFactory()
    client = logged_in(client, superuser)
    page = client.get(url("aimodel_delete", ai_model.pk))
    assert page.status_code == 200
    assert page.context["protected"]
    assert client.post(url("aimodel_delete", ai_model.pk), {"post": "yes"}).status_code == 200
    bulk = client.post(
        url("aimodel_changelist"),
        {"action": "delete_selected", "_selected_action": [ai_model.pk], "post": "yes"},
    )
    assert bulk.status_code == 200
    assert AIModel.objects.filter(pk=ai_model.pk).exists()


def test_deleting_an_applicant_with_models_shows_the_protected_page(client, superuser):
    ai_model = AIModelFactory()
    response = logged_in(client, superuser).post(
        url("applicant_delete", ai_model.applicant.pk), {"post": "yes"}
    )
    assert response.status_code == 200
    assert response.context["protected"]


def test_editors_cannot_delete_models(client, editor):
    ai_model = AIModelFactory()
    response = logged_in(client, editor).post(url("aimodel_delete", ai_model.pk), {"post": "yes"})
    assert response.status_code == 403
    assert AIModel.objects.filter(pk=ai_model.pk).exists()


def test_jurisdictions_are_view_only(client, superuser):
    beijing = jurisdiction("BJ")
    client = logged_in(client, superuser)
    assert client.get(url("jurisdiction_add")).status_code == 403
    response = client.post(url("jurisdiction_change", beijing.pk), {"name_en": "Peking"})
    assert response.status_code == 403
    assert client.post(url("jurisdiction_delete", beijing.pk), {"post": "yes"}).status_code == 403


def test_a_batch_without_a_slug_gets_one_from_its_title(client, editor):
    response = logged_in(client, editor).post(
        url("batch_add"),
        {
            "title_zh": "第九批",
            "title_en": "",
            "slug": "",
            "announced_on": "2024-08-01",
            "announced_precision": "month",
            "authority": "Cyberspace Administration of China",
        },
    )
    assert response.status_code == 302
    assert Batch.objects.get().slug
    assert Batch.objects.get().announced_label == "2024-08"


# Anonymous users -------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_login_from_every_admin_page(client):
    ai_model = ApprovedModelFactory()
    pending = AIModelFactory(status=S.NATIONAL_REVIEW)
    step = ai_model.history.get()
    objects = {
        "jurisdiction": jurisdiction("BJ").pk,
        "applicant": ai_model.applicant.pk,
        "batch": ai_model.batch.pk,
        "aimodel": ai_model.pk,
        "statuschange": step.pk,
    }
    pages = [reverse("admin:index"), reverse("admin:app_list", args=["tracker"])]
    for model, pk in objects.items():
        pages += [
            url(f"{model}_changelist"),
            url(f"{model}_add"),
            url(f"{model}_change", pk),
            url(f"{model}_delete", pk),
            url(f"{model}_history", pk),
        ]
    login = reverse("admin:login")
    for page in pages:
        response = client.get(page)
        assert response.status_code == 302, page
        assert response.url.startswith(login), page

    response = client.post(
        url("aimodel_changelist"),
        {"action": "approve", "_selected_action": [pending.pk], "apply": "1"},
    )
    assert response.status_code == 302 and response.url.startswith(login)
    assert AIModel.objects.get(pk=pending.pk).status == S.NATIONAL_REVIEW


def test_the_filing_type_is_fixed_once_review_has_started(client, editor):
    in_review = AIModelFactory(status=S.NATIONAL_REVIEW)
    new = AIModelFactory()
    client = logged_in(client, editor)

    refused = client.post(
        url("aimodel_change", in_review.pk),
        change_data(in_review, filing_type=FilingType.REGISTRATION),
    )
    accepted = client.post(
        url("aimodel_change", new.pk), change_data(new, filing_type=FilingType.REGISTRATION)
    )

    assert "before review starts" in " ".join(
        refused.context["adminform"].form.errors["filing_type"]
    )
    assert AIModel.objects.get(pk=in_review.pk).filing_type == FilingType.FILING
    assert accepted.status_code == 302
    assert AIModel.objects.get(pk=new.pk).filing_type == FilingType.REGISTRATION


def test_a_sequence_number_taken_in_its_sequence_is_refused_with_a_message(client, reviewer):
    ApprovedModelFactory(name_zh="已有模型", name_en="", seq_no=12)
    registration = ApprovedModelFactory(
        filing_type=FilingType.REGISTRATION, upstream=ApprovedModelFactory(), seq_no=12
    )
    other = ApprovedModelFactory()

    response = logged_in(client, reviewer).post(
        url("aimodel_change", other.pk), change_data(other, seq_no=12)
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["seq_no"] == [
        "No. 12 of the national filings is already 已有模型."
    ]
    other.refresh_from_db()
    assert other.seq_no is None
    # The registrations count their own 序号: No. 12 there is another row's.
    assert registration.seq_no == 12


def test_an_on_device_scenario_moves_a_filing_to_the_on_device_sequence(client, reviewer):
    ApprovedModelFactory(seq_no=1)
    phone = ApprovedModelFactory()

    response = logged_in(client, reviewer).post(
        url("aimodel_change", phone.pk),
        change_data(phone, seq_no=1, on_device_scenario="华为手机", aliases="小艺\n Celia "),
    )

    assert response.status_code == 302
    phone.refresh_from_db()
    assert (phone.sequence, phone.seq_no, phone.alias_list) == ("on_device", 1, ["小艺", "Celia"])
