import importlib

from django.db import migrations

# Its _run(sqlite_statements, postgresql_statements) runs the statements of the database
# in use.
stamp = importlib.import_module("tracker.migrations.0004_register_stamp")

# PostgreSQL only.
#
# A search word is matched with UPPER(column) LIKE UPPER('%word%') (icontains): trigram
# indexes on those very expressions let a word of three characters or more find its rows
# without reading the table. pg_trgm is a trusted extension: the database's owner may
# create it.
#
# The listings sort newest approval first with the undated last (DESC NULLS LAST). A DESC
# index keeps NULLs first on PostgreSQL, so it cannot give that order and every page sorted
# the whole register; these indexes are rebuilt with the listing's order. SQLite, whose
# DESC indexes already keep NULLs last, has no NULLS LAST in an index and keeps them as
# they are.
LISTING_ORDER_INDEXES = {
    "aimodel_approved_idx": ("", "id"),
    "aimodel_applicant_idx": ("applicant_id, ", "id"),
    "aimodel_applicant_status_idx": ("applicant_id, status, ", "id"),
    "aimodel_status_approved_idx": ("status, ", "id DESC"),
}


def _order_indexes(nulls):
    statements = []
    for name, (leading, last) in LISTING_ORDER_INDEXES.items():
        statements += [
            f"DROP INDEX {name}",
            f"CREATE INDEX {name} ON tracker_aimodel ({leading}approved_on DESC{nulls}, {last})",
        ]
    return statements


POSTGRESQL_INDEXES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX aimodel_search_text_trgm_idx ON tracker_aimodel "
    "USING gin (UPPER(search_text) gin_trgm_ops)",
    "CREATE INDEX aimodel_filing_number_trgm_idx ON tracker_aimodel "
    "USING gin (UPPER(filing_number::text) gin_trgm_ops)",
    *_order_indexes(" NULLS LAST"),
    "ANALYZE tracker_aimodel",
]
POSTGRESQL_INDEXES_REMOVAL = [
    "DROP INDEX aimodel_search_text_trgm_idx",
    "DROP INDEX aimodel_filing_number_trgm_idx",
    *_order_indexes(""),
]


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0006_applicant_status_index_covers_listing_order"),
    ]

    operations = [
        migrations.RunPython(
            stamp._run([], POSTGRESQL_INDEXES), stamp._run([], POSTGRESQL_INDEXES_REMOVAL)
        ),
    ]
