"""The audit trail: who changed which public field of a record, when, from what, to what,
and why.

The database writes the trail itself (migration 0005): a trigger on each audited table
records every changed public field of every UPDATE, whatever makes it, in the same
transaction. ``recorded`` is the one way to say who writes and why: inside it, the
triggers attribute the changes to ``by`` with ``reason``; outside it, a change is still
recorded, with neither.
"""

import datetime
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import transaction
from django.db.backends.signals import connection_created
from django.db.models import BooleanField
from django.dispatch import receiver
from django.utils.text import capfirst
from django.utils.translation import gettext

from tracker.models import (
    AIModel,
    Applicant,
    AuditContext,
    Batch,
    ChangeKind,
    Correction,
    RecordType,
)

# The public fields each record type's trigger audits, as migration 0005 lists them.
AUDITED_FIELDS = {
    RecordType.MODEL: (
        "name_zh",
        "name_en",
        "slug",
        "applicant",
        "filing_type",
        "scope",
        "sector",
        "upstream",
        "filing_number",
        "submitted_on",
        "approved_on",
        "approved_on_estimated",
        "batch",
        "seq_no",
        "on_device_scenario",
        "aliases",
        "description",
    ),
    RecordType.APPLICANT: (
        "name_zh",
        "name_en",
        "slug",
        "jurisdiction",
        "kind",
        "website",
        "parent",
    ),
    RecordType.BATCH: (
        "slug",
        "title_en",
        "title_zh",
        "announced_on",
        "announced_precision",
        "covers_until",
        "authority",
        "source_url",
        "reported_new",
        "reported_total",
        "reported_registrations_new",
        "reported_registrations_total",
        "description",
    ),
}


@contextmanager
def recorded(by=None, reason="", kind=ChangeKind.EDIT):
    """Changes written inside this block are recorded as made by ``by`` for ``reason``.

    The context is a row that exists only inside the block's transaction: added at its
    start, removed at its end (or rolled back with it), so no other transaction sees it.
    """
    with transaction.atomic():
        context = AuditContext.objects.create(actor=by, reason=reason, kind=kind)
        yield
        AuditContext.objects.filter(pk=context.pk).delete()


def history_of(record_type, record_id):
    """The corrections of one record (status steps left to its timeline), oldest first."""
    return Correction.objects.filter(
        record_type=record_type, record_id=record_id, kind=ChangeKind.EDIT
    ).order_by("changed_at", "pk")


RECORD_MODELS = {
    RecordType.MODEL: AIModel,
    RecordType.APPLICANT: Applicant,
    RecordType.BATCH: Batch,
}


@dataclass(frozen=True)
class ShownCorrection:
    """A correction as the public reads it: never who made it, only that staff did."""

    changed_at: datetime.datetime
    name: str  # the field's name, as the API gives it
    field: str  # its label, in the reader's language
    old: str
    new: str
    reason: str


def shown(corrections):
    """``corrections`` of one record type as the public reads them: each field by its
    name, each value as the site shows it (a link's record by its name, a choice by its
    label, a yes or no), in the reader's language."""
    corrections = list(corrections)
    names = _linked_names(corrections)
    result = []
    for correction in corrections:
        field = RECORD_MODELS[correction.record_type]._meta.get_field(correction.field)
        result.append(
            ShownCorrection(
                changed_at=correction.changed_at,
                name=correction.field,
                field=capfirst(field.verbose_name),
                old=_value(field, correction.old_value, names),
                new=_value(field, correction.new_value, names),
                reason=correction.reason,
            )
        )
    return result


def _linked_names(corrections):
    """{(model class, id): name} of every record the corrections' links name."""
    wanted = {}
    for correction in corrections:
        field = RECORD_MODELS[correction.record_type]._meta.get_field(correction.field)
        if field.is_relation:
            for value in (correction.old_value, correction.new_value):
                if value:
                    wanted.setdefault(field.related_model, set()).add(int(value))
    return {
        (model, pk): str(record)
        for model, ids in wanted.items()
        for pk, record in model.objects.in_bulk(ids).items()
    }


def _value(field, value, names):
    if value is None or value == "":
        return "—"
    if field.is_relation:
        # A record since deleted keeps its number.
        return names.get((field.related_model, int(value)), f"#{value}")
    if isinstance(field, BooleanField):
        return gettext("yes") if value in ("true", "1", "t") else gettext("no")
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return value


# Only the flush of a whole database (a test database's, or ``manage.py flush``) may empty
# the trail: the SQLite trigger that refuses a DELETE asks this.
_purging = False


@contextmanager
def purging():
    """Let the trail be emptied, with the rest of the database, inside this block."""
    global _purging
    _purging = True
    try:
        yield
    finally:
        _purging = False


def may_purge_history():
    return 1 if _purging else 0


@receiver(connection_created)
def _register_functions(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "tracker_may_purge_history", 0, may_purge_history, deterministic=False
        )
