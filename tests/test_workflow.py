import datetime

import pytest
from django.utils import timezone

from tests.factories import (
    AIModelFactory,
    ApplicantFactory,
    ApprovedModelFactory,
    BatchFactory,
)
from tracker import workflow
from tracker.models import AIModel, FilingType, Status, StatusChange
from tracker.workflow import StaleRecordError, TransitionError

S = Status
STEP_DAY = datetime.date(2024, 6, 1)
APPROVAL_DAY = datetime.date(2024, 3, 1)

# The design's transition table, written out again so a change to the code's table shows up.
ALLOWED_FOR_FILINGS = {
    S.SUBMITTED: {S.PROVINCIAL_REVIEW, S.WITHDRAWN},
    S.PROVINCIAL_REVIEW: {S.SUPPLEMENT_REQUESTED, S.NATIONAL_REVIEW, S.REJECTED, S.WITHDRAWN},
    S.SUPPLEMENT_REQUESTED: {S.PROVINCIAL_REVIEW, S.NATIONAL_REVIEW, S.REJECTED, S.WITHDRAWN},
    S.NATIONAL_REVIEW: {S.SUPPLEMENT_REQUESTED, S.APPROVED, S.REJECTED, S.WITHDRAWN},
    S.APPROVED: {S.SUSPENDED, S.CANCELLED, S.REVOKED},
    S.SUSPENDED: {S.APPROVED, S.CANCELLED, S.REVOKED},
    S.REJECTED: set(),
    S.WITHDRAWN: set(),
    S.CANCELLED: set(),
    S.REVOKED: set(),
}
# Registrations stay with the provincial office: it approves them, nobody reviews nationally.
ALLOWED_FOR_REGISTRATIONS = {
    **ALLOWED_FOR_FILINGS,
    S.PROVINCIAL_REVIEW: {S.SUPPLEMENT_REQUESTED, S.APPROVED, S.REJECTED, S.WITHDRAWN},
    S.SUPPLEMENT_REQUESTED: {S.PROVINCIAL_REVIEW, S.REJECTED, S.WITHDRAWN},
}
APPROVED_FAMILY = (S.APPROVED, S.SUSPENDED, S.CANCELLED, S.REVOKED)


def model_in(status, filing_type=FilingType.FILING, **fields):
    """A model sitting in ``status``; a registration calls an approved filed model."""
    if status in APPROVED_FAMILY:
        fields.setdefault("approved_on", APPROVAL_DAY)
    if filing_type == FilingType.REGISTRATION:
        fields.setdefault("upstream", ApprovedModelFactory())
    return AIModelFactory(status=status, filing_type=filing_type, **fields)


def snapshot(ai_model):
    row = AIModel.objects.get(pk=ai_model.pk)
    return (row.status, row.version, row.approved_on, row.batch_id, row.filing_number), (
        StatusChange.objects.filter(model=ai_model).count()
    )


def every_pair(table, filing_type, skip_from=()):
    return [
        pytest.param(filing_type, from_, to, to in table[from_], id=f"{filing_type}-{from_}-{to}")
        for from_ in Status
        if from_ not in skip_from
        for to in Status
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("filing_type", "from_", "to", "allowed"),
    every_pair(ALLOWED_FOR_FILINGS, FilingType.FILING)
    # A registration never reaches national review, so that row has no meaning for it.
    + every_pair(ALLOWED_FOR_REGISTRATIONS, FilingType.REGISTRATION, skip_from={S.NATIONAL_REVIEW}),
)
def test_every_status_pair_is_allowed_or_refused_as_the_table_says(
    filing_type, from_, to, allowed, reviewer
):
    ai_model = model_in(from_, filing_type)
    before, steps_before = snapshot(ai_model)

    if not allowed:
        with pytest.raises(TransitionError):
            workflow.transition(ai_model, to, by=reviewer, on=STEP_DAY, note="n")
        assert snapshot(ai_model) == (before, steps_before)
        return

    step = workflow.transition(ai_model, to, by=reviewer, on=STEP_DAY, note="Announced.")

    assert StatusChange.objects.filter(model=ai_model).count() == steps_before + 1
    step.refresh_from_db()
    assert (step.from_status, step.to_status) == (from_, to)
    assert (step.happened_on, step.recorded_by, step.note) == (STEP_DAY, reviewer, "Announced.")
    row = AIModel.objects.get(pk=ai_model.pk)
    assert row.status == to
    assert row.version == before[1] + 1
    if to == S.APPROVED and from_ != S.SUSPENDED:
        assert row.approved_on == STEP_DAY
    else:
        assert row.approved_on == before[2]
    assert (ai_model.status, ai_model.version) == (row.status, row.version)


@pytest.mark.django_db
@pytest.mark.parametrize("from_", [S.PROVINCIAL_REVIEW, S.SUPPLEMENT_REQUESTED])
def test_a_registration_is_never_sent_to_national_review(from_, reviewer):
    registration = model_in(from_, FilingType.REGISTRATION)

    with pytest.raises(TransitionError, match="provincial office only"):
        workflow.transition(registration, S.NATIONAL_REVIEW, by=reviewer)

    assert snapshot(registration)[0][0] == from_
    assert S.NATIONAL_REVIEW not in workflow.allowed_transitions(registration)


@pytest.mark.django_db
def test_a_filing_is_not_approved_by_the_provincial_office_alone(reviewer):
    filing = model_in(S.PROVINCIAL_REVIEW)

    with pytest.raises(TransitionError, match="national review"):
        workflow.transition(filing, S.APPROVED, by=reviewer)


@pytest.mark.django_db
@pytest.mark.parametrize("upstream_status", [S.NATIONAL_REVIEW, S.SUSPENDED, S.REVOKED])
def test_a_registration_waits_for_its_upstream_model_to_be_approved(upstream_status, reviewer):
    upstream = model_in(upstream_status)
    registration = model_in(S.PROVINCIAL_REVIEW, FilingType.REGISTRATION, upstream=upstream)
    before = snapshot(registration)

    with pytest.raises(TransitionError, match="model it calls is approved"):
        workflow.transition(registration, S.APPROVED, by=reviewer, on=STEP_DAY)

    assert snapshot(registration) == before


@pytest.mark.django_db
def test_a_registration_without_an_upstream_model_is_not_approved(reviewer):
    registration = model_in(S.PROVINCIAL_REVIEW, FilingType.REGISTRATION, upstream=None)

    with pytest.raises(TransitionError, match="filed model it calls"):
        workflow.transition(registration, S.APPROVED, by=reviewer, on=STEP_DAY)

    assert snapshot(registration)[0][0] == S.PROVINCIAL_REVIEW


@pytest.mark.django_db
def test_a_registration_is_approved_once_its_upstream_model_is(reviewer):
    upstream = model_in(S.NATIONAL_REVIEW)
    registration = model_in(S.PROVINCIAL_REVIEW, FilingType.REGISTRATION, upstream=upstream)
    workflow.transition(upstream, S.APPROVED, by=reviewer, on=datetime.date(2024, 5, 1))

    workflow.transition(registration, S.APPROVED, by=reviewer, on=STEP_DAY)

    assert AIModel.objects.get(pk=registration.pk).status == S.APPROVED


@pytest.mark.django_db
def test_approving_records_the_approval_date_batch_and_filing_number(reviewer):
    ai_model = model_in(S.NATIONAL_REVIEW)
    batch = BatchFactory()

    workflow.transition(
        ai_model,
        S.APPROVED,
        by=reviewer,
        on=STEP_DAY,
        batch=batch,
        filing_number="  Beijing-Example-202406010001 ",
    )

    row = AIModel.objects.get(pk=ai_model.pk)
    assert (row.approved_on, row.batch, row.filing_number) == (
        STEP_DAY,
        batch,
        "Beijing-Example-202406010001",
    )
    assert (ai_model.batch, ai_model.filing_number) == (batch, "Beijing-Example-202406010001")


@pytest.mark.django_db
def test_approving_without_a_date_uses_today_in_china(reviewer):
    ai_model = model_in(S.NATIONAL_REVIEW)

    step = workflow.transition(ai_model, S.APPROVED, by=reviewer)

    assert step.happened_on == timezone.localdate()
    assert AIModel.objects.get(pk=ai_model.pk).approved_on == timezone.localdate()


@pytest.mark.django_db
def test_reinstating_a_suspended_approval_keeps_the_original_approval_date(reviewer):
    ai_model = model_in(S.SUSPENDED)

    workflow.transition(ai_model, S.APPROVED, by=reviewer, on=STEP_DAY)

    assert AIModel.objects.get(pk=ai_model.pk).approved_on == APPROVAL_DAY


@pytest.mark.django_db
def test_a_filing_number_held_by_another_model_is_refused(reviewer):
    holder = ApprovedModelFactory(filing_number="Beijing-Taken-202403010001", name_en="Holder")
    ai_model = model_in(S.NATIONAL_REVIEW)
    before = snapshot(ai_model)

    with pytest.raises(TransitionError) as refused:
        workflow.transition(
            ai_model,
            S.APPROVED,
            by=reviewer,
            on=STEP_DAY,
            filing_number="Beijing-Taken-202403010001",
        )

    assert "Beijing-Taken-202403010001" in str(refused.value)
    assert str(holder) in str(refused.value)
    assert snapshot(ai_model) == before


@pytest.mark.django_db
def test_a_model_may_be_approved_again_under_its_own_filing_number(reviewer):
    ai_model = model_in(S.SUSPENDED, filing_number="Beijing-Own-202403010001")

    workflow.transition(
        ai_model, S.APPROVED, by=reviewer, on=STEP_DAY, filing_number="Beijing-Own-202403010001"
    )

    assert AIModel.objects.get(pk=ai_model.pk).status == S.APPROVED


@pytest.mark.django_db
def test_a_step_dated_in_the_future_is_refused(reviewer):
    ai_model = model_in(S.SUBMITTED)
    before = snapshot(ai_model)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    with pytest.raises(TransitionError, match="future"):
        workflow.transition(ai_model, S.PROVINCIAL_REVIEW, by=reviewer, on=tomorrow)

    assert snapshot(ai_model) == before


@pytest.mark.django_db
def test_a_step_dated_before_the_previous_step_is_refused(reviewer):
    ai_model = model_in(S.SUBMITTED)
    workflow.transition(ai_model, S.PROVINCIAL_REVIEW, by=reviewer, on=STEP_DAY)
    before = snapshot(ai_model)

    with pytest.raises(TransitionError, match="before the previous step"):
        workflow.transition(
            ai_model, S.NATIONAL_REVIEW, by=reviewer, on=STEP_DAY - datetime.timedelta(days=1)
        )

    assert snapshot(ai_model) == before


@pytest.mark.django_db
def test_a_step_on_the_same_day_as_the_previous_one_is_accepted(reviewer):
    ai_model = model_in(S.SUBMITTED)
    workflow.transition(ai_model, S.PROVINCIAL_REVIEW, by=reviewer, on=STEP_DAY)

    workflow.transition(ai_model, S.NATIONAL_REVIEW, by=reviewer, on=STEP_DAY)

    assert list(ai_model.history.values_list("to_status", flat=True)) == [
        S.SUBMITTED,
        S.PROVINCIAL_REVIEW,
        S.NATIONAL_REVIEW,
    ]


@pytest.mark.django_db
def test_an_approval_dated_before_the_submission_is_refused(reviewer):
    ai_model = model_in(S.NATIONAL_REVIEW, submitted_on=datetime.date(2024, 5, 1))
    before = snapshot(ai_model)

    with pytest.raises(TransitionError, match="before the submission date"):
        workflow.transition(ai_model, S.APPROVED, by=reviewer, on=datetime.date(2024, 4, 30))

    assert snapshot(ai_model) == before


@pytest.mark.django_db
@pytest.mark.parametrize("to", ["bogus", "", "APPROVED"])
def test_an_unknown_status_is_refused(to, reviewer):
    ai_model = model_in(S.NATIONAL_REVIEW)

    with pytest.raises(TransitionError, match="not a known status"):
        workflow.transition(ai_model, to, by=reviewer)


@pytest.mark.django_db
def test_a_refusal_names_both_statuses_in_words(reviewer):
    ai_model = model_in(S.REJECTED)

    with pytest.raises(TransitionError, match="from “Rejected” to “Approved”"):
        workflow.transition(ai_model, S.APPROVED, by=reviewer)


@pytest.mark.django_db
def test_a_change_based_on_a_stale_read_is_refused(reviewer):
    ai_model = model_in(S.PROVINCIAL_REVIEW)
    stale = AIModel.objects.get(pk=ai_model.pk)
    workflow.transition(ai_model, S.NATIONAL_REVIEW, by=reviewer, on=STEP_DAY)
    before = snapshot(ai_model)

    with pytest.raises(StaleRecordError, match="Reload it"):
        workflow.transition(stale, S.REJECTED, by=reviewer, on=STEP_DAY)

    assert snapshot(ai_model) == before
    assert stale.status == S.PROVINCIAL_REVIEW


@pytest.mark.django_db
def test_a_stale_read_is_refused_even_when_the_status_came_back(reviewer):
    ai_model = model_in(S.APPROVED)
    stale = AIModel.objects.get(pk=ai_model.pk)
    workflow.transition(ai_model, S.SUSPENDED, by=reviewer, on=STEP_DAY)
    workflow.transition(ai_model, S.APPROVED, by=reviewer, on=STEP_DAY)
    before = snapshot(ai_model)

    with pytest.raises(StaleRecordError):
        workflow.transition(stale, S.REVOKED, by=reviewer, on=STEP_DAY)

    assert snapshot(ai_model) == before


@pytest.mark.django_db
def test_a_fresh_read_after_a_refusal_succeeds(reviewer):
    ai_model = model_in(S.PROVINCIAL_REVIEW)
    stale = AIModel.objects.get(pk=ai_model.pk)
    workflow.transition(ai_model, S.NATIONAL_REVIEW, by=reviewer, on=STEP_DAY)
    with pytest.raises(StaleRecordError):
        workflow.transition(stale, S.WITHDRAWN, by=reviewer, on=STEP_DAY)

    stale.refresh_from_db()
    workflow.transition(stale, S.WITHDRAWN, by=reviewer, on=STEP_DAY)

    assert AIModel.objects.get(pk=ai_model.pk).status == S.WITHDRAWN


@pytest.mark.django_db
def test_allowed_transitions_follow_the_table_and_the_filing_type():
    filing = model_in(S.PROVINCIAL_REVIEW)
    registration = model_in(S.PROVINCIAL_REVIEW, FilingType.REGISTRATION)

    assert workflow.allowed_transitions(filing) == [
        S.SUPPLEMENT_REQUESTED,
        S.NATIONAL_REVIEW,
        S.REJECTED,
        S.WITHDRAWN,
    ]
    assert workflow.allowed_transitions(registration) == [
        S.SUPPLEMENT_REQUESTED,
        S.APPROVED,
        S.REJECTED,
        S.WITHDRAWN,
    ]
    assert workflow.allowed_transitions(model_in(S.REVOKED)) == []


@pytest.mark.django_db
def test_a_step_may_be_recorded_without_a_user():
    ai_model = model_in(S.SUBMITTED)

    step = workflow.transition(ai_model, S.PROVINCIAL_REVIEW, by=None, on=STEP_DAY)

    assert step.recorded_by is None


def unsaved_model(**fields):
    return AIModelFactory.build(applicant=ApplicantFactory(), **fields)


@pytest.mark.django_db
def test_entering_a_submission_writes_its_first_step(reviewer):
    ai_model = unsaved_model(submitted_on=datetime.date(2024, 2, 1))

    step = workflow.enter(ai_model, by=reviewer, note="Reported in the news.")

    assert AIModel.objects.get(pk=ai_model.pk).status == S.SUBMITTED
    assert list(ai_model.history.all()) == [step]
    assert (step.from_status, step.to_status, step.happened_on) == (
        "",
        S.SUBMITTED,
        datetime.date(2024, 2, 1),
    )
    assert (step.recorded_by, step.note) == (reviewer, "Reported in the news.")


@pytest.mark.django_db
def test_entering_an_approval_dates_its_first_step_on_the_approval(reviewer):
    ai_model = unsaved_model(approved_on=APPROVAL_DAY, filing_number="Beijing-New-20240301")

    step = workflow.enter(ai_model, by=reviewer, status=S.APPROVED)

    assert (step.to_status, step.happened_on) == (S.APPROVED, APPROVAL_DAY)


@pytest.mark.django_db
def test_entering_without_any_date_uses_today(reviewer):
    ai_model = unsaved_model(submitted_on=None)

    step = workflow.enter(ai_model, by=reviewer, status=S.PROVINCIAL_REVIEW)

    assert step.happened_on == timezone.localdate()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "status",
    [S.SUPPLEMENT_REQUESTED, S.REJECTED, S.WITHDRAWN, S.SUSPENDED, S.CANCELLED, S.REVOKED, "x"],
)
def test_a_record_cannot_enter_the_register_in_a_later_status(status, reviewer):
    ai_model = unsaved_model(approved_on=APPROVAL_DAY)

    with pytest.raises(TransitionError, match="cannot enter the register"):
        workflow.enter(ai_model, by=reviewer, status=status)

    assert ai_model.pk is None
    assert not AIModel.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"approved_on": None}, S.APPROVED, "needs its approval date"),
        ({"filing_type": FilingType.REGISTRATION}, S.NATIONAL_REVIEW, "provincial office only"),
        ({"submitted_on": datetime.date(2999, 1, 1)}, S.SUBMITTED, "future"),
        (
            {"submitted_on": datetime.date(2024, 5, 1), "approved_on": APPROVAL_DAY},
            S.APPROVED,
            "refused this record",
        ),
    ],
)
def test_entering_an_impossible_record_is_refused(fields, status, message, reviewer):
    ai_model = unsaved_model(**fields)

    with pytest.raises(TransitionError, match=message):
        workflow.enter(ai_model, by=reviewer, status=status)

    assert ai_model.pk is None
    assert not AIModel.objects.exists()
    assert not StatusChange.objects.exists()


@pytest.mark.django_db
def test_entering_a_duplicate_filing_number_is_refused_and_writes_nothing(reviewer):
    ApprovedModelFactory(filing_number="Beijing-Dup-20240301")
    ai_model = unsaved_model(approved_on=APPROVAL_DAY, filing_number="Beijing-Dup-20240301")

    with pytest.raises(TransitionError):
        workflow.enter(ai_model, by=reviewer, status=S.APPROVED)

    assert ai_model.pk is None
    assert AIModel.objects.count() == 1


@pytest.mark.django_db
def test_a_saved_record_cannot_be_entered_twice(reviewer):
    ai_model = model_in(S.SUBMITTED)

    with pytest.raises(TransitionError, match="already in the register"):
        workflow.enter(ai_model, by=reviewer)

    assert ai_model.history.count() == 1


def test_enter_published_saves_approvals_with_their_first_step(reviewer):
    applicant = ApplicantFactory()
    models = [
        AIModel(applicant=applicant, name_zh=f"模型{n}", slug=f"m-{n}", approved_on=APPROVAL_DAY)
        for n in range(3)
    ]

    workflow.enter_published(
        [(m, f"Published as No. {n}.") for n, m in enumerate(models)], by=reviewer
    )

    saved = AIModel.objects.filter(applicant=applicant)
    assert set(saved.values_list("status", flat=True)) == {Status.APPROVED}
    steps = StatusChange.objects.filter(model__applicant=applicant)
    assert list(
        steps.order_by("model__slug").values_list("from_status", "to_status", "happened_on", "note")
    ) == [("", Status.APPROVED, APPROVAL_DAY, f"Published as No. {n}.") for n in range(3)]


@pytest.mark.parametrize("approved_on", [None, timezone.localdate() + datetime.timedelta(days=2)])
def test_enter_published_refuses_a_missing_or_future_date_and_writes_nothing(db, approved_on):
    ai_model = AIModel(
        applicant=ApplicantFactory(), name_zh="模型", slug="m", approved_on=approved_on
    )

    with pytest.raises(TransitionError):
        workflow.enter_published([(ai_model, "")], by=None)

    assert not AIModel.objects.filter(slug="m").exists()


@pytest.mark.parametrize(
    "moment, day",
    [
        # 23:30 in Beijing is still the day before in UTC (15:30), 00:30 is the day after.
        (datetime.datetime(2024, 3, 1, 15, 30, tzinfo=datetime.UTC), datetime.date(2024, 3, 1)),
        (datetime.datetime(2024, 3, 1, 16, 30, tzinfo=datetime.UTC), datetime.date(2024, 3, 2)),
    ],
)
def test_a_step_is_dated_by_the_day_in_china(db, monkeypatch, moment, day):
    monkeypatch.setattr(timezone, "now", lambda: moment)
    ai_model = model_in(S.SUBMITTED)

    step = workflow.transition(ai_model, S.PROVINCIAL_REVIEW, by=None)

    assert step.happened_on == day
    # That day is today, not the future, though UTC has not reached it yet at 00:30.
    assert workflow.future_date_refusal(day) is None
    assert workflow.future_date_refusal(day + datetime.timedelta(days=1)) == (
        f"The date {day + datetime.timedelta(days=1)} is in the future."
    )


def test_renaming_keeps_the_slugs_that_links_use(db):
    ai_model = model_in(S.SUBMITTED)
    applicant = ai_model.applicant
    slugs = (ai_model.slug, applicant.slug)

    applicant.name_en = "Renamed Group"
    applicant.save()
    ai_model.refresh_from_db()
    ai_model.name_en = "Renamed Model"
    ai_model.save()

    ai_model.refresh_from_db()
    assert (ai_model.slug, ai_model.applicant.slug) == slugs
    assert "Renamed Group" in ai_model.search_text


def test_a_model_whose_name_gives_no_slug_takes_a_free_fallback(db):
    applicant = ApplicantFactory(name_en="Acme", name_zh="")
    AIModelFactory(applicant=applicant, name_zh="", name_en="", slug=f"{applicant.slug}-model")
    models = [
        AIModel(applicant=applicant, name_en="☆", approved_on=APPROVAL_DAY),
        AIModel(applicant=applicant, name_en="★", approved_on=APPROVAL_DAY),
    ]

    workflow.enter_published([(m, "") for m in models], by=None)

    assert sorted(
        AIModel.objects.filter(name_en__in=["☆", "★"]).values_list("slug", flat=True)
    ) == [
        f"{applicant.slug}-model-2",
        f"{applicant.slug}-model-3",
    ]
