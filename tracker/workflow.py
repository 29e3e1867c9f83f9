"""The review workflow: the one place that writes a model's status and its history.

Every status change, from the admin, an import or a script, goes through ``transition``
(or ``enter`` for a record's first step, ``undo`` for a step entered in error), which
checks the transition table, writes the new status and a ``StatusChange`` in one
transaction, and refuses a change based on a stale read.
"""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tracker import audit
from tracker.bulk import insert_many
from tracker.models import (
    AIModel,
    ChangeKind,
    Correction,
    FilingType,
    RecordType,
    Status,
    StatusChange,
    choice_label,
)
from tracker.text import clean_number, match_key

S = Status

TRANSITIONS = {
    S.SUBMITTED: {S.PROVINCIAL_REVIEW, S.WITHDRAWN},
    S.PROVINCIAL_REVIEW: {
        S.SUPPLEMENT_REQUESTED,
        S.NATIONAL_REVIEW,
        S.APPROVED,
        S.REJECTED,
        S.WITHDRAWN,
    },
    S.SUPPLEMENT_REQUESTED: {S.PROVINCIAL_REVIEW, S.NATIONAL_REVIEW, S.REJECTED, S.WITHDRAWN},
    S.NATIONAL_REVIEW: {S.SUPPLEMENT_REQUESTED, S.APPROVED, S.REJECTED, S.WITHDRAWN},
    S.APPROVED: {S.SUSPENDED, S.CANCELLED, S.REVOKED},
    S.SUSPENDED: {S.APPROVED, S.CANCELLED, S.REVOKED},
    S.REJECTED: set(),
    S.WITHDRAWN: set(),
    S.CANCELLED: set(),
    S.REVOKED: set(),
}

# The statuses a record may enter the register with: a submission known from the news at
# any stage of review, or an approval read from a published list.
ENTRY_STATUSES = (S.SUBMITTED, S.PROVINCIAL_REVIEW, S.NATIONAL_REVIEW, S.APPROVED)


REGISTRATION_STAYS_PROVINCIAL = gettext_lazy(
    "A registration is reviewed by the provincial office only, never nationally."
)


class TransitionError(Exception):
    """A status change the workflow refuses; the message is meant for a person."""


class StaleRecordError(TransitionError):
    """The record changed since it was read; reloading it and trying again may succeed."""


def transition_refusal(ai_model, to):
    """Why ``ai_model`` may not move to ``to`` by the table and its filing type, or None."""
    if to not in Status.values:
        return _("“%(status)s” is not a known status.") % {"status": to}
    registration = ai_model.filing_type == FilingType.REGISTRATION
    if registration and to == S.NATIONAL_REVIEW:
        return str(REGISTRATION_STAYS_PROVINCIAL)
    if not registration and ai_model.status == S.PROVINCIAL_REVIEW and to == S.APPROVED:
        return _("A filing must pass national review before it is approved.")
    if to not in TRANSITIONS[Status(ai_model.status)]:
        return _("A submission cannot go from “%(from)s” to “%(to)s”.") % {
            "from": choice_label(Status, ai_model.status),
            "to": choice_label(Status, to),
        }
    return None


def allowed_transitions(ai_model):
    """The statuses ``ai_model`` may move to next, in workflow order."""
    return [status for status in Status if transition_refusal(ai_model, status) is None]


def future_date_refusal(day):
    """Why ``day`` cannot date a step of review, or None: no step happens in the future."""
    if day is not None and day > timezone.localdate():
        return _("The date %(date)s is in the future.") % {"date": day}
    return None


def filing_number_refusal(number, exclude=()):
    """Why ``number`` cannot go to a model other than those in ``exclude`` (pks), or None:
    another model holds it, whatever the spaces or case of either spelling."""
    holder = (
        AIModel.objects.select_related("applicant")
        .filter(number_key=match_key(number))
        .exclude(pk__in=exclude)
        .first()
    )
    if holder is not None:
        return _("The filing number %(number)s already belongs to %(model)s.") % {
            "number": number,
            "model": holder,
        }
    return None


def date_refusal(ai_model, to, on):
    """Why a step of ``ai_model`` to ``to`` cannot be dated ``on``, or None: not in the
    future, an approval not before the submission, no step before the previous one."""
    if refusal := future_date_refusal(on):
        return refusal
    if to == S.APPROVED and ai_model.submitted_on and on < ai_model.submitted_on:
        return _("The approval date %(date)s is before the submission date %(submitted)s.") % {
            "date": on,
            "submitted": ai_model.submitted_on,
        }
    last = ai_model.history.order_by("-happened_on").values_list("happened_on", flat=True).first()
    if last and on < last:
        return _("The date %(date)s is before the previous step of this submission (%(last)s).") % {
            "date": on,
            "last": last,
        }
    return None


def _check_date(ai_model, to, on):
    if refusal := date_refusal(ai_model, to, on):
        raise TransitionError(refusal)


def upstream_refusal(ai_model):
    """Why the registration ``ai_model`` cannot be approved yet for its upstream, or None."""
    if ai_model.upstream_id is None:
        return _("A registration can only be approved once the filed model it calls is entered.")
    if not AIModel.objects.filter(pk=ai_model.upstream_id, status=S.APPROVED).exists():
        return _("A registration can only be approved once the model it calls is approved.")
    return None


def transition(ai_model, to, *, by, on=None, note="", batch=None, filing_number=None):
    """Move ``ai_model`` to status ``to`` and record the step; return the ``StatusChange``.

    ``on`` is the day the step happened (default today, in China's time zone); approving
    sets ``approved_on`` from it. ``batch`` and ``filing_number``, when given, are written
    with the step. Raises ``TransitionError`` when the table forbids the step or when the
    record changed since ``ai_model`` was read.
    """
    on = on or timezone.localdate()
    refusal = transition_refusal(ai_model, to)
    if refusal:
        raise TransitionError(refusal)
    from_status = ai_model.status
    # The update is conditional on the version read, so the new one is known.
    changes = {"status": to, "version": ai_model.version + 1, "updated_at": timezone.now()}
    if to == S.APPROVED and from_status != S.SUSPENDED:
        # A reinstatement after suspension keeps the original approval date.
        changes["approved_on"] = on
    if batch is not None:
        changes["batch"] = batch
    filing_number = clean_number(filing_number)
    if filing_number:
        changes["filing_number"] = filing_number
        changes["number_key"] = match_key(filing_number)
        changes["search_text"] = ai_model.make_search_text(ai_model.applicant, filing_number)

    # The fields the step sets are in the audit trail as the step's, with its note.
    with audit.recorded(by, note, ChangeKind.STEP):
        _check_date(ai_model, to, on)
        if filing_number and (refusal := filing_number_refusal(filing_number, [ai_model.pk])):
            raise TransitionError(refusal)
        registration = ai_model.filing_type == FilingType.REGISTRATION
        if to == S.APPROVED and registration and (refusal := upstream_refusal(ai_model)):
            raise TransitionError(refusal)
        step = _write_step(
            ai_model, from_status, changes, to_status=to, happened_on=on, recorded_by=by, note=note
        )
    for name, value in changes.items():
        setattr(ai_model, name, value)
    return step


def _write_step(ai_model, from_status, changes, **step):
    """Write ``changes`` to ``ai_model`` and record the step (``step``: its fields); the
    caller holds ``audit.recorded``.

    The update is conditional on the status and version that were read: if another change
    landed first (even one that came back to the same status), no row matches and this one
    is refused instead of overwriting it.
    """
    try:
        with transaction.atomic():
            updated = AIModel.objects.filter(
                pk=ai_model.pk, status=from_status, version=ai_model.version
            ).update(**changes)
    except IntegrityError as exc:
        raise TransitionError(
            _("The database refused this change: %(error)s") % {"error": exc}
        ) from exc
    if not updated:
        raise StaleRecordError(
            _("%(model)s changed since it was read (it was “%(status)s”). Reload it and try again.")
            % {"model": ai_model, "status": choice_label(Status, from_status)}
        )
    return StatusChange.objects.create(model=ai_model, from_status=from_status, **step)


def last_step(ai_model):
    """The latest step of ``ai_model``'s timeline, or None."""
    return ai_model.history.last()


def timeline(ai_model):
    """``ai_model``'s public steps, oldest first (one query): a step undone as entered in
    error has ``undone_by`` (its reversal), a reversal ``undoes`` (the step it undid)."""
    steps = list(
        ai_model.history.only(
            "model_id", "from_status", "to_status", "happened_on", "note", "reverses"
        )
    )
    by_id = {step.pk: step for step in steps}
    for step in steps:
        step.undone_by = step.undoes = None
    for step in steps:
        if step.reverses_id in by_id:
            step.undoes = by_id[step.reverses_id]
            step.undoes.undone_by = step
    return steps


def undo_refusal(ai_model, step=None):
    """Why the last step of ``ai_model`` (``step``, when already read) cannot be undone,
    or None."""
    step = step or last_step(ai_model)
    if step is None or not step.from_status:
        return _(
            "The first step, how the record entered the register, cannot be undone: "
            "correct the record instead."
        )
    if step.reverses_id is not None:
        # An undo entered in error is put right by applying the undone step again, which
        # the table always allows (it went from that status before) and checks as usual.
        return _(
            "The last step already undid an earlier one: to restore that step, apply it again."
        )
    if step.to_status != ai_model.status:
        return _(
            "The last step of the history does not lead to the current status “%(status)s”."
        ) % {"status": choice_label(Status, ai_model.status)}
    return None


# The fields a step may write besides the status, in the order the audit trigger records
# an UPDATE's changes (migration 0005 follows AUDITED_FIELDS).
STEP_FIELDS = ("filing_number", "approved_on", "batch")
_TRIGGER_ORDER = {name: i for i, name in enumerate(audit.AUDITED_FIELDS[RecordType.MODEL])}


def _sets_approval_date(step):
    return step.to_status == S.APPROVED and step.from_status not in ("", S.SUSPENDED)


def _written_by(step, ai_model):
    """What ``step``, the last step of ``ai_model``, wrote besides the status, as
    {field: its value before the step}.

    Read from the audit trail, without comparing the database's clock with the
    application's (they may be two machines'): the trigger writes one UPDATE's changes as
    consecutive rows in a fixed field order, and only steps write rows of kind "step". So
    the newest run of such rows (edits made since are skipped) is the last step that wrote
    any field; it is this step's only if its author, reason and fields fit this step (an
    approval dates itself on its day), else this step wrote nothing.
    """
    corrections = (
        Correction.objects.filter(record_type=RecordType.MODEL, record_id=ai_model.pk)
        .order_by("-pk")
        .iterator(chunk_size=50)
    )
    run = []
    for correction in corrections:
        if correction.kind != ChangeKind.STEP:
            if run:
                break
            continue
        if run and (
            _TRIGGER_ORDER[correction.field] >= _TRIGGER_ORDER[run[-1].field]
            or (correction.changed_by_id, correction.reason)
            != (run[-1].changed_by_id, run[-1].reason)
            or abs(correction.changed_at - run[-1].changed_at) > datetime.timedelta(seconds=1)
        ):
            break
        run.append(correction)
    fields = set(STEP_FIELDS) if _sets_approval_date(step) else {"filing_number", "batch"}
    fits = run and all(
        correction.field in fields
        and correction.changed_by_id == step.recorded_by_id
        and correction.reason == step.note
        for correction in run
    )
    dated = next((c.new_value for c in run if c.field == "approved_on"), None)
    if not fits or dated not in (None, step.happened_on.isoformat()):
        return {}
    return {correction.field: correction.old_value for correction in run}


def _restoring(ai_model, written):
    """The update that puts back the fields ``written`` lists with their old values."""
    changes = {}
    if "approved_on" in written:
        old = written["approved_on"]
        changes["approved_on"] = datetime.date.fromisoformat(old[:10]) if old else None
    if "batch" in written:
        changes["batch_id"] = int(written["batch"]) if written["batch"] else None
    if "filing_number" in written:
        number = written["filing_number"] or ""
        changes["filing_number"] = number
        changes["number_key"] = match_key(number)
        changes["search_text"] = ai_model.make_search_text(ai_model.applicant, number)
    return changes


def undo(ai_model, *, by, reason, on=None):
    """Undo the last step of ``ai_model``, entered in error; return the reversal step.

    Nothing is deleted: a new step, dated ``on`` (default today) and carrying ``reason``
    as its public note, goes back from the current status to the one before the undone
    step and names the step it reverses; the fields that step wrote (an approval's date,
    batch and filing number) get back the values they had before it. The first step of a
    record and a reversal cannot be undone. Raises ``TransitionError`` like ``transition``,
    a stale read included.
    """
    reason = (reason or "").strip()
    if not reason:
        raise TransitionError(
            _("Say why the step is undone: the reason is shown on the public timeline.")
        )
    on = on or timezone.localdate()
    from_status = ai_model.status
    with audit.recorded(by, reason, ChangeKind.STEP):
        step = last_step(ai_model)
        if refusal := undo_refusal(ai_model, step):
            raise TransitionError(refusal)
        back_to = step.from_status
        _check_date(ai_model, back_to, on)
        changes = {
            "status": back_to,
            "version": ai_model.version + 1,
            "updated_at": timezone.now(),
            **_restoring(ai_model, _written_by(step, ai_model)),
        }
        number = changes.get("filing_number")
        if number and (refusal := filing_number_refusal(number, [ai_model.pk])):
            raise TransitionError(refusal)
        reversal = _write_step(
            ai_model,
            from_status,
            changes,
            to_status=back_to,
            happened_on=on,
            recorded_by=by,
            note=reason,
            reverses=step,
        )
    for name, value in changes.items():
        setattr(ai_model, name, value)
    return reversal


def entry_refusal(ai_model, status):
    """Why a new ``ai_model`` may not enter the register as ``status``, or None."""
    if status not in ENTRY_STATUSES:
        return _("A record cannot enter the register as “%(status)s”.") % {
            "status": choice_label(Status, status)
        }
    if status == S.APPROVED and ai_model.approved_on is None:
        return _("An approved record needs its approval date.")
    registration = ai_model.filing_type == FilingType.REGISTRATION
    if status == S.NATIONAL_REVIEW and registration:
        return str(REGISTRATION_STAYS_PROVINCIAL)
    if status == S.APPROVED and registration:
        return upstream_refusal(ai_model)
    return None


def enter(ai_model, *, by, status=S.SUBMITTED, on=None, note=""):
    """Save a new ``ai_model`` with its first status and the first step of its history.

    ``on`` defaults to the approval date for an approval, the submission date otherwise,
    and today when neither is known.
    """
    if ai_model.pk is not None:
        raise TransitionError(_("%(model)s is already in the register.") % {"model": ai_model})
    refusal = entry_refusal(ai_model, status)
    if refusal:
        raise TransitionError(refusal)
    on = on or (ai_model.approved_on if status == S.APPROVED else ai_model.submitted_on)
    on = on or timezone.localdate()
    if refusal := future_date_refusal(on):
        raise TransitionError(refusal)
    ai_model.status = status
    try:
        with transaction.atomic():
            ai_model.save()
            return StatusChange.objects.create(
                model=ai_model,
                from_status="",
                to_status=status,
                happened_on=on,
                recorded_by=by,
                note=note,
            )
    except IntegrityError as exc:
        # The row was rolled back, so the instance must not look saved.
        ai_model.pk = None
        raise TransitionError(
            _("The database refused this record: %(error)s") % {"error": exc}
        ) from exc


def enter_published(entries, *, by):
    """The bulk form of ``enter(ai_model, status=APPROVED)``, for a published list.

    ``entries`` are (unsaved model, note) pairs: each model is saved as approved, with the
    first step of its history dated on its approval date and carrying its note, its
    derived fields and slug made as ``save()`` makes them (``AIModel.prepare_many``). A
    published registration list does not name the filed models the registrations call:
    ``check_integrity`` lists them until staff link each one.
    """
    entries = list(entries)
    for ai_model, _note in entries:
        if ai_model.approved_on is None:
            raise TransitionError(_("An approved record needs its approval date."))
        if refusal := future_date_refusal(ai_model.approved_on):
            raise TransitionError(refusal)
        ai_model.status = S.APPROVED
    AIModel.prepare_many([ai_model for ai_model, _note in entries])
    with transaction.atomic():
        ids = insert_many(AIModel, (ai_model for ai_model, _note in entries))
        insert_many(
            StatusChange,
            (
                StatusChange(
                    model_id=ids[ai_model.slug],
                    from_status="",
                    to_status=S.APPROVED,
                    happened_on=ai_model.approved_on,
                    recorded_by=by,
                    note=note,
                )
                for ai_model, note in entries
            ),
        )
