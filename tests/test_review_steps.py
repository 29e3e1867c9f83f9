"""Review steps in the admin: undoing a step entered in error, names that cannot be
misread, destructive steps that say why, and dates checked before confirming."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import AIModelFactory, ApprovedModelFactory, BatchFactory
from tracker import workflow
from tracker.admin import REVIEW_STEPS, UNDO_STEP
from tracker.models import AIModel, ChangeKind, Correction, RecordType, Status, StatusChange

pytestmark = pytest.mark.django_db

S = Status
CHANGE_FORM_ACTION = "CHANGE_FORM-action"
TODAY = timezone.localdate


def url(name, *args):
    return reverse(f"admin:tracker_{name}", args=args)


def from_list(client, step, *models, **fields):
    """Post a review action from the list: its confirmation when ``fields`` are given."""
    data = {"action": step, "_selected_action": [m.pk for m in models]}
    if fields:
        data |= {"happened_on": TODAY().isoformat(), "note": "", "apply": "Confirm", **fields}
    return client.post(url("aimodel_changelist"), data)


def from_page(client, step, ai_model, **fields):
    """Post a review action from the model's own page, confirmed when ``fields`` are given."""
    data = {CHANGE_FORM_ACTION: step, "_selected_action": ai_model.pk}
    if fields:
        data |= {"happened_on": TODAY().isoformat(), "note": "", "apply": "Confirm", **fields}
    return client.post(url("aimodel_change", ai_model.pk), data)


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def steps_of(ai_model):
    return list(
        StatusChange.objects.filter(model=ai_model)
        .order_by("pk")
        .values_list("from_status", "to_status", "note", "reverses")
    )


def cancelled_in_error():
    ai_model = ApprovedModelFactory()
    workflow.transition(
        ai_model, S.CANCELLED, by=None, on=datetime.date(2024, 5, 1), note="Cancelled by the CAC."
    )
    return ai_model


# Undoing a step ---------------------------------------------------------------------------


def test_a_reviewer_undoes_a_cancellation_from_the_models_page(client, reviewer):
    ai_model = cancelled_in_error()
    cancellation = ai_model.history.get(to_status=S.CANCELLED)
    client.force_login(reviewer)

    page = client.get(url("aimodel_change", ai_model.pk)).content.decode()
    assert (
        '<button type="submit" class="button danger" name="CHANGE_FORM-action" '
        'value="undo_last_step">Undo the last step (entered in error)…</button>'
    ) in page
    response = from_page(
        client,
        "undo_last_step",
        ai_model,
        happened_on="2024-05-03",
        note="The notice cancelled another model of this applicant.",
    )

    assert response.status_code == 302
    ai_model.refresh_from_db()
    assert ai_model.status == S.APPROVED
    assert ai_model.approved_on == datetime.date(2024, 3, 1)
    # Nothing is deleted: the cancellation stays, and a reversal names it.
    assert steps_of(ai_model) == [
        ("", S.APPROVED, "", None),
        (S.APPROVED, S.CANCELLED, "Cancelled by the CAC.", None),
        (
            S.CANCELLED,
            S.APPROVED,
            "The notice cancelled another model of this applicant.",
            cancellation.pk,
        ),
    ]
    reversal = cancellation.reversal
    assert (reversal.happened_on, reversal.recorded_by) == (datetime.date(2024, 5, 3), reviewer)


def test_the_public_timeline_strikes_through_the_undone_step_with_the_reason(client, reviewer):
    ai_model = cancelled_in_error()
    workflow.undo(ai_model, by=reviewer, reason="Entered for the wrong model.", on=TODAY())

    page = client.get(ai_model.get_absolute_url(), follow=True).content.decode()

    assert (
        '<li class="reversed">\n'
        '        <del><time datetime="2024-05-01">2024-05-01</time>\n'
        '        <span class="step">Approved → <span class="status status-cancelled">Cancelled'
        "</span></span></del>\n"
        '        <strong class="flag">entered in error</strong>\n'
        '        <p class="note"><del>Cancelled by the CAC.</del></p>\n'
        f'        <p class="note">Corrected on {TODAY().isoformat()}: Entered for the wrong model.'
        "</p>"
    ) in page
    assert (
        '<span class="step">Corrected: back to <span class="status status-approved">Approved'
        "</span></span>"
    ) in page


def test_undoing_an_approval_restores_its_date_batch_and_filing_number(client, reviewer):
    ai_model = AIModelFactory(status=S.NATIONAL_REVIEW, filing_number="Beijing-Early-20240101")
    batch = BatchFactory()
    client.force_login(reviewer)
    from_list(
        client,
        "approve",
        ai_model,
        happened_on="2024-04-01",
        batch=batch.pk,
        filing_number="Beijing-Wrong-202404010001",
    )
    ai_model.refresh_from_db()
    assert (ai_model.status, ai_model.batch, ai_model.filing_number) == (
        S.APPROVED,
        batch,
        "Beijing-Wrong-202404010001",
    )

    response = from_list(
        client, "undo_last_step", ai_model, note="The notice listed another model."
    )

    assert response.status_code == 302
    ai_model = AIModel.objects.get(pk=ai_model.pk)
    assert ai_model.status == S.NATIONAL_REVIEW
    assert (ai_model.approved_on, ai_model.batch, ai_model.filing_number) == (
        None,
        None,
        "Beijing-Early-20240101",
    )
    assert ai_model.number_key == "beijing-early-20240101"
    assert "Wrong" not in ai_model.search_text
    # The restored fields are in the record's history as the reversal's, with its reason.
    restored = Correction.objects.filter(
        record_type=RecordType.MODEL,
        record_id=ai_model.pk,
        reason="The notice listed another model.",
    )
    assert sorted(restored.values_list("field", "old_value", "new_value", "kind")) == [
        ("approved_on", "2024-04-01", None, ChangeKind.STEP),
        ("batch", str(batch.pk), None, ChangeKind.STEP),
        ("filing_number", "Beijing-Wrong-202404010001", "Beijing-Early-20240101", ChangeKind.STEP),
    ]


def test_undoing_a_suspension_leaves_the_approval_fields_alone(reviewer):
    ai_model = ApprovedModelFactory()
    approved = (ai_model.approved_on, ai_model.batch_id, ai_model.filing_number)
    workflow.transition(ai_model, S.SUSPENDED, by=reviewer, note="")

    workflow.undo(ai_model, by=reviewer, reason="Suspended the wrong model.")

    ai_model = AIModel.objects.get(pk=ai_model.pk)
    assert ai_model.status == S.APPROVED
    assert (ai_model.approved_on, ai_model.batch_id, ai_model.filing_number) == approved


@pytest.mark.parametrize("final", [S.REJECTED, S.WITHDRAWN, S.REVOKED])
def test_every_final_status_entered_in_error_can_be_undone(reviewer, final):
    factory = ApprovedModelFactory if final == S.REVOKED else AIModelFactory
    ai_model = factory(status=final)
    before = ai_model.history.get(to_status=final).from_status

    reversal = workflow.undo(ai_model, by=reviewer, reason="Entered in error.")

    assert AIModel.objects.get(pk=ai_model.pk).status == before
    assert (reversal.from_status, reversal.to_status) == (final, before)


def test_the_first_step_cannot_be_undone(reviewer):
    ai_model = AIModelFactory(status=S.NATIONAL_REVIEW)
    with pytest.raises(workflow.TransitionError) as refusal:
        workflow.undo(ai_model, by=reviewer, reason="Wrong.")
    assert str(refusal.value) == (
        "The first step, how the record entered the register, cannot be undone: "
        "correct the record instead."
    )
    assert AIModel.objects.get(pk=ai_model.pk).status == S.NATIONAL_REVIEW
    assert ai_model.history.count() == 1


def test_a_reversal_is_not_undone_but_the_step_applied_again(reviewer):
    ai_model = cancelled_in_error()
    workflow.undo(ai_model, by=reviewer, reason="Wrong model.")

    with pytest.raises(workflow.TransitionError) as refusal:
        workflow.undo(ai_model, by=reviewer, reason="It was the right model after all.")

    assert str(refusal.value) == (
        "The last step already undid an earlier one: to restore that step, apply it again."
    )
    workflow.transition(ai_model, S.CANCELLED, by=reviewer, note="It was the right model.")
    assert AIModel.objects.get(pk=ai_model.pk).status == S.CANCELLED


def test_an_undo_needs_a_reason(reviewer):
    ai_model = cancelled_in_error()
    with pytest.raises(workflow.TransitionError) as refusal:
        workflow.undo(ai_model, by=reviewer, reason="  ")
    assert str(refusal.value) == (
        "Say why the step is undone: the reason is shown on the public timeline."
    )
    assert AIModel.objects.get(pk=ai_model.pk).status == S.CANCELLED


def test_an_undo_based_on_a_stale_read_is_refused(reviewer):
    ai_model = cancelled_in_error()
    stale = AIModel.objects.get(pk=ai_model.pk)
    workflow.undo(ai_model, by=reviewer, reason="Wrong model.")
    workflow.transition(ai_model, S.CANCELLED, by=reviewer, note="Right model after all.")

    with pytest.raises(workflow.StaleRecordError):
        workflow.undo(stale, by=reviewer, reason="Again.")
    assert AIModel.objects.get(pk=ai_model.pk).status == S.CANCELLED
    assert ai_model.history.count() == 4


def test_the_api_names_the_step_a_reversal_undoes(client, reviewer):
    ai_model = cancelled_in_error()
    cancellation = ai_model.history.get(to_status=S.CANCELLED)
    reversal = workflow.undo(ai_model, by=reviewer, reason="Wrong model.")

    history = client.get(f"/api/v1/models/{ai_model.slug}/").json()["history"]
    changes = client.get("/api/v1/changes/").json()["results"]

    assert [(s["id"], s["reverses"]) for s in history] == [
        (ai_model.history.get(from_status="").pk, None),
        (cancellation.pk, None),
        (reversal.pk, cancellation.pk),
    ]
    steps = {row["id"]: row["reverses"] for row in changes if row["kind"] == "status"}
    assert (steps[reversal.pk], steps[cancellation.pk]) == (cancellation.pk, None)


def test_an_editor_is_not_offered_the_undo_and_cannot_post_it(client, editor):
    ai_model = cancelled_in_error()
    client.force_login(editor)

    assert 'value="undo_last_step"' not in client.get(url("aimodel_change", ai_model.pk)).text
    assert 'value="undo_last_step"' not in client.get(url("aimodel_changelist")).text
    from_list(client, "undo_last_step", ai_model, note="Wrong model.")
    from_page(client, "undo_last_step", ai_model, note="Wrong model.")

    assert AIModel.objects.get(pk=ai_model.pk).status == S.CANCELLED
    assert ai_model.history.count() == 2


def test_the_undo_is_not_offered_for_a_record_with_only_its_first_step(client, reviewer):
    ai_model = AIModelFactory()
    client.force_login(reviewer)
    response = client.get(url("aimodel_change", ai_model.pk))
    assert response.context["undo_step"] is None
    assert 'value="undo_last_step"' not in response.text


# Names, ways back, reasons ----------------------------------------------------------------


def test_every_step_has_a_name_that_cannot_be_misread():
    assert {step.name: str(step.label) for step in [*REVIEW_STEPS, UNDO_STEP]} == {
        "move_to_provincial_review": "Move to provincial review",
        "request_supplement": "Request a supplement",
        "move_to_national_review": "Move to national review",
        "approve": "Approve",
        "reject": "Reject the submission",
        "withdraw": "Withdraw the submission",
        "suspend": "Suspend the approval",
        "reinstate": "Reinstate the approval",
        "cancel": "Cancel the approval (注销)",
        "revoke": "Revoke the approval (撤销)",
        "undo_last_step": "Undo the last step (entered in error)",
    }
    destructive = {step.name for step in [*REVIEW_STEPS, UNDO_STEP] if step.destructive}
    assert destructive == {"reject", "withdraw", "suspend", "cancel", "revoke", "undo_last_step"}


def test_the_confirmation_leads_back_to_the_model_or_the_list_never_cancel(client, reviewer):
    ai_model = ApprovedModelFactory()
    client.force_login(reviewer)

    on_page = from_page(client, "cancel", ai_model).text
    on_list = from_list(client, "cancel", ai_model).text

    model_url = url("aimodel_change", ai_model.pk)
    assert f'<a href="{model_url}">Back to the model</a>' in on_page
    assert f'<a href="{url("aimodel_changelist")}">Back to the list</a>' in on_list
    for page in (on_page, on_list):
        assert ">Cancel<" not in page
        assert (
            '<input type="submit" name="apply" class="default danger" '
            'value="Cancel the approval (注销): confirm">'
        ) in page
        assert '<link rel="stylesheet" href="/static/css/admin-review.css"' in page


def test_a_harmless_step_does_not_look_destructive(client, reviewer):
    ai_model = AIModelFactory()
    client.force_login(reviewer)
    page = from_list(client, "move_to_provincial_review", ai_model).text
    assert (
        '<input type="submit" name="apply" class="default" '
        'value="Move to provincial review: confirm">'
    ) in page


@pytest.mark.parametrize("step", ["reject", "withdraw"])
def test_a_destructive_step_requires_a_public_reason(client, reviewer, step):
    ai_model = AIModelFactory(status=S.PROVINCIAL_REVIEW)
    client.force_login(reviewer)

    response = from_list(client, step, ai_model, note="  ")

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "note": ["Give the public reason for this step: it is shown on the model's timeline."]
    }
    assert AIModel.objects.get(pk=ai_model.pk).status == S.PROVINCIAL_REVIEW


def test_an_undo_without_a_reason_is_refused_on_the_form(client, reviewer):
    ai_model = cancelled_in_error()
    client.force_login(reviewer)
    response = from_page(client, "undo_last_step", ai_model, note="")
    assert response.context["form"].errors == {
        "note": ["Give the public reason for this step: it is shown on the model's timeline."]
    }
    assert AIModel.objects.get(pk=ai_model.pk).status == S.CANCELLED


# Dates, checked before confirming -------------------------------------------------------


def test_a_future_date_is_refused_on_the_form_keeping_what_was_typed(client, reviewer):
    ai_model = AIModelFactory(status=S.NATIONAL_REVIEW)
    tomorrow = (TODAY() + datetime.timedelta(days=1)).isoformat()
    client.force_login(reviewer)

    response = from_page(
        client, "reject", ai_model, happened_on=tomorrow, note="The CAC refused it."
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "happened_on": [f"The date {tomorrow} is in the future."]
    }
    page = response.text
    assert f'value="{tomorrow}"' in page
    assert ">\nThe CAC refused it.</textarea>" in page
    assert AIModel.objects.get(pk=ai_model.pk).status == S.NATIONAL_REVIEW
    assert ai_model.history.count() == 1


def test_a_date_before_the_models_last_step_is_refused_on_the_form(client, reviewer):
    ai_model = AIModelFactory(status=S.NATIONAL_REVIEW, submitted_on=datetime.date(2024, 3, 1))
    client.force_login(reviewer)

    response = from_list(
        client, "reject", ai_model, happened_on="2024-02-01", note="The CAC refused it."
    )

    assert response.context["form"].errors == {
        "happened_on": [
            "The date 2024-02-01 is before the previous step of this submission (2024-03-01)."
        ]
    }
    assert '<textarea name="note"' in response.text
    assert ">\nThe CAC refused it.</textarea>" in response.text
    assert AIModel.objects.get(pk=ai_model.pk).status == S.NATIONAL_REVIEW


def test_each_selected_model_with_an_earlier_date_is_named(client, reviewer):
    early = AIModelFactory(submitted_on=datetime.date(2024, 1, 10))
    late = AIModelFactory(submitted_on=datetime.date(2024, 6, 1))
    client.force_login(reviewer)

    response = from_list(client, "move_to_provincial_review", early, late, happened_on="2024-05-01")

    assert response.context["form"].errors == {
        "happened_on": [
            f"“{late}”: The date 2024-05-01 is before the previous step of this submission "
            "(2024-06-01)."
        ]
    }
    assert AIModel.objects.filter(status=S.PROVINCIAL_REVIEW).count() == 0


def test_an_undo_dated_before_the_step_it_undoes_is_refused(client, reviewer):
    ai_model = cancelled_in_error()
    client.force_login(reviewer)
    response = from_page(
        client, "undo_last_step", ai_model, happened_on="2024-04-30", note="Wrong model."
    )
    assert response.context["form"].errors == {
        "happened_on": [
            "The date 2024-04-30 is before the previous step of this submission (2024-05-01)."
        ]
    }
    assert AIModel.objects.get(pk=ai_model.pk).status == S.CANCELLED


def test_when_every_selected_model_would_be_refused_the_confirm_button_is_disabled(
    client, reviewer
):
    models = [AIModelFactory(), AIModelFactory()]
    client.force_login(reviewer)

    response = from_list(client, "approve", *models)

    page = response.text
    assert response.context["all_refused"] is True
    assert (
        '<input type="submit" name="apply" class="default" value="Approve: confirm" '
        'disabled aria-describedby="review-step-refused">'
    ) in page
    assert [refusal for _model, refusal in response.context["rows"]] == [
        "A submission cannot go from “Submitted” to “Approved”.",
        "A submission cannot go from “Submitted” to “Approved”.",
    ]
    assert page.count("Will be refused: A submission cannot go from") == 2


def test_the_confirm_button_stays_enabled_when_one_model_can_move(client, reviewer):
    models = [AIModelFactory(), AIModelFactory(status=S.NATIONAL_REVIEW)]
    client.force_login(reviewer)
    response = from_list(client, "approve", *models)
    assert response.context["all_refused"] is False
    assert "disabled" not in response.text.split('name="apply"')[1].split(">")[0]
