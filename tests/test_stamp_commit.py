"""On PostgreSQL the register stamp moves once per transaction, as it commits (migration
0006): concurrent writers no longer queue behind each other's whole transactions on its row,
and readers see the new stamp exactly when the writes it covers become visible."""

import pytest
from django.db import connection, connections, transaction

from tests.factories import AIModelFactory, ApplicantFactory
from tracker import stamp
from tracker.analysis import stats
from tracker.models import AIModel, Applicant, Status

# Committed transactions; serialized rollback restores the rows of the data migrations.
pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def other():
    """A second connection to the same database: another app instance's."""
    other = connections.create_connection("default")
    yield other
    other.close()


def other_stamp(other):
    with other.cursor() as cursor:
        cursor.execute(stamp.STAMP_SQL)
        return cursor.fetchone()[0]


def test_a_writer_does_not_wait_for_another_writers_open_transaction(other):
    applicant = ApplicantFactory()
    first, second = AIModelFactory(applicant=applicant), AIModelFactory(applicant=applicant)

    with transaction.atomic():
        AIModel.objects.filter(pk=first.pk).update(name_en="Held open")
        # Before migration 0006 this waited on the stamp's row until the first committed.
        with other.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
            cursor.execute(
                "UPDATE tracker_aimodel SET name_en = 'Written alongside' WHERE id = %s",
                [second.pk],
            )
        other.commit()

    assert AIModel.objects.get(pk=second.pk).name_en == "Written alongside"
    assert AIModel.objects.get(pk=first.pk).name_en == "Held open"


def test_the_stamp_moves_once_per_transaction_when_it_commits(other):
    applicant = ApplicantFactory()
    before = stamp.current()

    with transaction.atomic():
        for n in range(3):
            AIModelFactory(applicant=applicant, name_en=f"Model {n}")
        Applicant.objects.filter(pk=applicant.pk).update(name_en="Renamed")
        # Inside the transaction, and to everyone else, the register has not changed yet;
        # inside, the stamp says so.
        inside = stamp.current()
        assert (inside.version, inside.changed_at, inside.settled) == (
            before.version,
            before.changed_at,
            False,
        )
        assert other_stamp(other) == before.version

    after = stamp.current()
    assert after.version == before.version + 1
    assert after.changed_at > before.changed_at
    assert other_stamp(other) == after.version


def test_a_rolled_back_transaction_leaves_the_stamp_alone():
    before = stamp.current()

    with pytest.raises(RuntimeError), transaction.atomic():
        AIModelFactory()
        raise RuntimeError("Given up")

    assert stamp.current() == before


def test_each_committed_statement_moves_the_stamp_outside_a_transaction():
    applicant = ApplicantFactory()
    before = stamp.register_stamp()

    Applicant.objects.filter(pk=applicant.pk).update(name_en="Once")
    once = stamp.register_stamp()
    Applicant.objects.filter(pk=applicant.pk).update(name_en="Twice")

    assert before < once < stamp.register_stamp()


def test_a_truncate_moves_the_stamp():
    before = stamp.register_stamp()

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE tracker_source_ai_models")

    assert stamp.register_stamp() > before


def test_numbers_read_inside_a_writing_transaction_are_never_kept(other):
    applicant = ApplicantFactory()
    AIModelFactory(applicant=applicant, status=Status.NATIONAL_REVIEW)
    assert stamp.current().settled

    with pytest.raises(RuntimeError), transaction.atomic():
        AIModelFactory(applicant=applicant, status=Status.NATIONAL_REVIEW)
        assert not stamp.current().settled
        # Counted with this transaction's own row, and not kept for anyone else.
        assert stats.RegisterStats().summary.backlog == 2
        raise RuntimeError("Given up")

    assert stamp.current().settled
    assert stats.RegisterStats().summary.backlog == 1
