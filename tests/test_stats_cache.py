import datetime
from pathlib import Path

import pytest
from django.db import connection, transaction

from tests.factories import (
    AIModelFactory,
    ApprovedModelFactory,
    BatchFactory,
    days_ago,
    remove_history,
)
from tracker import stamp, workflow
from tracker.analysis import stats
from tracker.importing.lists import import_list
from tracker.models import AIModel, FilingType, Status

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).parent / "data" / "published_sample.csv"


def counts():
    return {c.status: c.count for c in stats.RegisterStats().summary.counts}


@pytest.fixture
def register():
    # Announced after the sample's latest filing date (2024-12-16), which one test imports.
    batch = BatchFactory(announced_on=datetime.date(2025, 1, 8))
    ApprovedModelFactory.create_batch(2, batch=batch)
    pending = AIModelFactory(status=Status.NATIONAL_REVIEW, submitted_on=days_ago(40))
    AIModelFactory(submitted_on=days_ago(10))
    return batch, pending


def test_numbers_are_computed_once_and_then_read_from_the_cache(
    register, django_assert_num_queries
):
    batch, _pending = register
    with django_assert_num_queries(4):
        first = stats.RegisterStats()
        summary, wait, entered = first.summary, first.median_wait(), first.entered

    # Only the stamp is read while the register stays as it was.
    with django_assert_num_queries(1):
        again = stats.RegisterStats()
        assert again.summary == summary
        assert again.median_wait() == wait == 25
        assert again.entered == entered == {(batch.pk, FilingType.FILING): 2}


def test_the_stamp_changes_on_every_insert_update_and_delete(register):
    _batch, pending = register
    seen = [stamp.register_stamp()]
    model = AIModelFactory()
    seen.append(stamp.register_stamp())
    AIModel.objects.filter(pk=model.pk).update(name_en="Renamed")
    seen.append(stamp.register_stamp())
    AIModel.objects.filter(pk=remove_history(model).pk).delete()
    seen.append(stamp.register_stamp())

    assert len(set(seen)) == 4


def test_a_transition_through_the_workflow_refreshes_the_counts(register, reviewer):
    _batch, pending = register
    before = counts()

    workflow.transition(pending, Status.APPROVED, by=reviewer, filing_number="Beijing-X-1")

    after = counts()
    assert after[Status.APPROVED] == before[Status.APPROVED] + 1
    assert after[Status.NATIONAL_REVIEW] == before[Status.NATIONAL_REVIEW] - 1
    assert stats.RegisterStats().median_wait() == 10


def test_an_import_refreshes_the_counts_and_the_entered_counts(register):
    batch, _pending = register
    before = stats.RegisterStats()
    assert before.entered[(batch.pk, FilingType.FILING)] == 2
    approved = before.summary.approved

    result = import_list(SAMPLE.read_bytes(), batch=batch)

    after = stats.RegisterStats()
    assert after.summary.approved == approved + result.created_models
    assert after.entered[(batch.pk, FilingType.FILING)] == 2 + result.created_models


def test_a_raw_queryset_update_refreshes_the_counts(register):
    counts()

    AIModel.objects.filter(status=Status.APPROVED).update(status=Status.SUSPENDED)

    after = counts()
    assert after[Status.APPROVED] == 0
    assert after[Status.SUSPENDED] == 2


def test_a_write_in_raw_sql_from_outside_django_refreshes_the_counts(register):
    counts()
    table = AIModel._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s WHERE status = %s",
            [Status.WITHDRAWN, Status.SUBMITTED],
        )

    assert counts()[Status.SUBMITTED] == 0
    assert counts()[Status.WITHDRAWN] == 1


def test_a_rolled_back_write_never_brings_back_numbers_of_another_state(register):
    _batch, pending = register
    with pytest.raises(RuntimeError), transaction.atomic():
        AIModel.objects.filter(pk=pending.pk).update(status=Status.SUBMITTED)
        rolled_back = stamp.register_stamp()
        assert counts()[Status.SUBMITTED] == 2
        raise RuntimeError

    AIModel.objects.filter(pk=pending.pk).update(status=Status.PROVINCIAL_REVIEW)

    assert stamp.register_stamp() != rolled_back
    assert counts()[Status.SUBMITTED] == 1
    assert counts()[Status.PROVINCIAL_REVIEW] == 1


def test_without_the_stamp_row_the_numbers_are_computed_each_time(register):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM tracker_register_stamp")

    assert stamp.register_stamp() is None
    assert counts()[Status.APPROVED] == 2
    AIModel.objects.filter(status=Status.APPROVED).update(status=Status.REVOKED)
    assert counts()[Status.APPROVED] == 0


def test_the_overview_shows_a_change_made_after_it_was_cached(client, register):
    _batch, pending = register
    assert client.get("/en/").context["summary"].approved == 2

    AIModel.objects.filter(pk=pending.pk).update(
        status=Status.APPROVED, approved_on=days_ago(1), filing_number="Beijing-Y-2"
    )

    assert client.get("/en/").context["summary"].approved == 3
    assert client.get("/en/backlog/").context["summary"].backlog == 1
