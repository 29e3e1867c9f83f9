import importlib

from django.db import migrations

initial = importlib.import_module("tracker.migrations.0003_search_text_and_listing_indexes")

# SQLite only. The trigram index of 0003 could not answer a word of two characters
# (知极, AI), which then read every row. Each indexed value now ends with a unit
# separator, a character no name or search word holds, so every occurrence of a
# two-character word starts some trigram, and the trigrams starting with a word are a
# range of the index's vocabulary (tracker_aimodel_search_terms). The table keeps no copy
# of the text (content=''): triggers write the values and delete the same ones.
END = "char(31)"


def _values(row):
    return f"{row}.id, {row}.search_text || {END}, {row}.filing_number || {END}"


SQLITE_SEARCH_INDEX = [
    *initial.SQLITE_SEARCH_INDEX_REMOVAL,
    "CREATE VIRTUAL TABLE tracker_aimodel_search USING fts5("
    "search_text, filing_number, content='', tokenize='trigram')",
    "CREATE VIRTUAL TABLE tracker_aimodel_search_terms "
    "USING fts5vocab(tracker_aimodel_search, 'instance')",
    "CREATE TRIGGER tracker_aimodel_search_insert AFTER INSERT ON tracker_aimodel BEGIN "
    "INSERT INTO tracker_aimodel_search(rowid, search_text, filing_number) "
    f"VALUES ({_values('new')}); END",
    "CREATE TRIGGER tracker_aimodel_search_delete AFTER DELETE ON tracker_aimodel BEGIN "
    "INSERT INTO tracker_aimodel_search(tracker_aimodel_search, rowid, search_text, "
    f"filing_number) VALUES ('delete', {_values('old')}); END",
    "CREATE TRIGGER tracker_aimodel_search_update AFTER UPDATE OF search_text, filing_number "
    "ON tracker_aimodel BEGIN "
    "INSERT INTO tracker_aimodel_search(tracker_aimodel_search, rowid, search_text, "
    f"filing_number) VALUES ('delete', {_values('old')}); "
    "INSERT INTO tracker_aimodel_search(rowid, search_text, filing_number) "
    f"VALUES ({_values('new')}); END",
    "INSERT INTO tracker_aimodel_search(rowid, search_text, filing_number) "
    f"SELECT {_values('tracker_aimodel')} FROM tracker_aimodel",
]
SQLITE_SEARCH_INDEX_REMOVAL = [
    "DROP TABLE tracker_aimodel_search_terms",
    *initial.SQLITE_SEARCH_INDEX_REMOVAL,
    *initial.SQLITE_SEARCH_INDEX,
]


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0004_register_stamp"),
    ]

    operations = [
        migrations.RunPython(
            initial._run_on_sqlite(SQLITE_SEARCH_INDEX),
            initial._run_on_sqlite(SQLITE_SEARCH_INDEX_REMOVAL),
        ),
    ]
