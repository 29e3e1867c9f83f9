"""tracker.bulk: many rows in a few statements, each row as the ORM would store it."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from tracker import bulk
from tracker.models import AIModel
from tracker.public.filters import filter_models

from .factories import ApplicantFactory

pytestmark = pytest.mark.django_db


def test_bulk_rows_are_stored_as_saved_ones(monkeypatch):
    monkeypatch.setattr(bulk, "CHUNK_SIZE", 4)
    applicant = ApplicantFactory()
    models = [
        AIModel(applicant=applicant, name_zh=f"批量模型{i}", name_en=f"Bulk {i}", slug=f"bulk-{i}")
        for i in range(10)
    ]

    ids = bulk.insert_many(AIModel, models)

    assert sorted(ids) == sorted(f"bulk-{i}" for i in range(10))
    stored = AIModel.objects.get(slug="bulk-7")
    assert (stored.name_en, stored.applicant_id, stored.status) == (
        "Bulk 7",
        applicant.pk,
        "submitted",
    )
    assert stored.created_at is not None


def test_bulk_rows_are_searchable_like_saved_ones(monkeypatch):
    monkeypatch.setattr(bulk, "CHUNK_SIZE", 3)
    applicant = ApplicantFactory(name_en="Chunky Labs")
    bulk.insert_many(
        AIModel,
        [
            AIModel(
                applicant=applicant,
                name_zh=f"块{i}",
                slug=f"chunk-{i}",
                search_text=f"块{i}\x1f\x1f{applicant.name_zh}\x1fChunky Labs",
            )
            for i in range(7)
        ],
    )
    assert filter_models(QueryDict("q=chunky"))[0].count() == 7
    assert filter_models(QueryDict("q=块5"))[0].count() == 1


def test_a_refused_row_raises_an_integrity_error_and_inserts_nothing():
    applicant = ApplicantFactory()
    models = [AIModel(applicant=applicant, name_zh=f"重复{i}", slug="same-slug") for i in range(2)]
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert_many(AIModel, models)
    assert not AIModel.objects.filter(slug="same-slug").exists()


def _ten_models():
    applicant = ApplicantFactory()
    return [
        AIModel(applicant=applicant, name_zh=f"批量模型{i}", slug=f"bulk-{i}") for i in range(10)
    ]


@pytest.mark.sqlite
def test_sqlite_inserts_a_statement_per_chunk(monkeypatch):
    monkeypatch.setattr(bulk, "CHUNK_SIZE", 4)
    models = _ten_models()

    with CaptureQueriesContext(connection) as queries:
        bulk.insert_many(AIModel, models)

    inserts = [q for q in queries if q["sql"].startswith('INSERT INTO "tracker_aimodel"')]
    assert len(inserts) == 3


@pytest.mark.postgresql
def test_postgresql_copies_the_rows_in(monkeypatch):
    models = _ten_models()

    with CaptureQueriesContext(connection) as queries:
        bulk.insert_many(AIModel, models)

    # COPY is no query Django records: no INSERT was sent.
    assert not [q for q in queries if q["sql"].startswith('INSERT INTO "tracker_aimodel"')]
    assert AIModel.objects.count() == 10
