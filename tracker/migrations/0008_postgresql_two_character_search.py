import importlib

from django.db import migrations

# Its _run(sqlite_statements, postgresql_statements) runs the statements of the database
# in use.
stamp = importlib.import_module("tracker.migrations.0004_register_stamp")

# PostgreSQL only. A trigram index cannot answer a word of two characters (知极, AI),
# which then read every row. tracker_bigrams() gives the two-character pieces of a text
# (the index keeps each once); indexed over a model's searched text (its names, a separator no word holds, its
# filing number; upper-cased as icontains compares), a two-character word is found as one
# element of that array. filters.POSTGRESQL_TWO_CHARACTER_SQL repeats the expression as
# written here, which the planner needs to use the index. The function's cost is declared
# as what it is (a text cut into pieces, ~0.1 ms a row), or the planner walks a listing's
# order index computing it for each row, seconds at 1,000,000 models, where the index
# finds a rare word's models at once.
POSTGRESQL_INDEX = [
    "CREATE FUNCTION tracker_bigrams(value text) RETURNS text[] "
    "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 10000 AS $$ "
    "SELECT COALESCE(array_agg(substr(value, i, 2)), '{}') "
    "FROM generate_series(1, char_length(value) - 1) AS i $$",
    "CREATE INDEX aimodel_bigrams_idx ON tracker_aimodel USING gin "
    "(tracker_bigrams(UPPER(search_text || chr(31) || filing_number::text)))",
    "ANALYZE tracker_aimodel",
]
POSTGRESQL_INDEX_REMOVAL = [
    "DROP INDEX aimodel_bigrams_idx",
    "DROP FUNCTION tracker_bigrams(text)",
]


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0007_postgresql_search_and_order_indexes"),
    ]

    operations = [
        migrations.RunPython(
            stamp._run([], POSTGRESQL_INDEX), stamp._run([], POSTGRESQL_INDEX_REMOVAL)
        ),
    ]
