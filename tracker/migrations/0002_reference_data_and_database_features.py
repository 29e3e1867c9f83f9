"""What every install needs beyond the tables: the jurisdictions and the staff groups, and
the database features the ORM cannot declare, each with the SQL that removes it.

- The register stamp: a one-row table whose ``version`` changes on every write to
  tracker_aimodel, whichever process or statement makes it (raw SQL and bulk updates
  included); whole-register numbers are cached under it (tracker.analysis.stats.RegisterStats). A
  version is never reused, so a write rolled back after a number was cached cannot make
  that number current again.
- SQLite: a trigram full-text index over each model's search text and filing number
  (tracker.search reads it). The table keeps no copy of the text (content=''): triggers
  write the values and delete the same ones. Each indexed value ends with a unit separator,
  a character no name or search word holds, so every occurrence of a two-character word
  starts some trigram, and the trigrams starting with a word are a range of the index's
  vocabulary (tracker_aimodel_search_terms).
- PostgreSQL: trigram indexes on the UPPER(column) expressions icontains compares
  (pg_trgm is a trusted extension: the database's owner may create it), and a bigram index
  for words of two characters, through tracker_bigrams(): the two-character pieces of a
  text. Its cost is declared as what it is (a text cut into pieces, ~0.1 ms a row), or the
  planner walks a listing's order index computing it for each row. tracker.search writes
  the indexed expressions as they are written here, which the planner needs to use them.
- PostgreSQL: the listings sort newest approval first with the undated last (DESC NULLS
  LAST). A DESC index keeps NULLs first on PostgreSQL, so the indexes holding approved_on
  DESC are rebuilt in the listing's order. SQLite's DESC indexes already keep NULLs last.
"""

import secrets

from django.contrib.auth.management import create_permissions
from django.db import migrations

# code (ISO 3166-2:CN), Chinese name, English name, filing-number token
JURISDICTIONS = [
    ("BJ", "北京", "Beijing", "Beijing"),
    ("TJ", "天津", "Tianjin", "Tianjin"),
    ("HE", "河北", "Hebei", "Hebei"),
    ("SX", "山西", "Shanxi", "Shanxi"),
    ("NM", "内蒙古", "Inner Mongolia", "NeiMengGu"),
    ("LN", "辽宁", "Liaoning", "Liaoning"),
    ("JL", "吉林", "Jilin", "Jilin"),
    ("HL", "黑龙江", "Heilongjiang", "Heilongjiang"),
    ("SH", "上海", "Shanghai", "Shanghai"),
    ("JS", "江苏", "Jiangsu", "Jiangsu"),
    ("ZJ", "浙江", "Zhejiang", "Zhejiang"),
    ("AH", "安徽", "Anhui", "Anhui"),
    ("FJ", "福建", "Fujian", "Fujian"),
    ("JX", "江西", "Jiangxi", "Jiangxi"),
    ("SD", "山东", "Shandong", "Shandong"),
    ("HA", "河南", "Henan", "Henan"),
    ("HB", "湖北", "Hubei", "Hubei"),
    ("HN", "湖南", "Hunan", "Hunan"),
    ("GD", "广东", "Guangdong", "Guangdong"),
    ("GX", "广西", "Guangxi", "Guangxi"),
    ("HI", "海南", "Hainan", "Hainan"),
    ("CQ", "重庆", "Chongqing", "Chongqing"),
    ("SC", "四川", "Sichuan", "Sichuan"),
    ("GZ", "贵州", "Guizhou", "Guizhou"),
    ("YN", "云南", "Yunnan", "Yunnan"),
    ("XZ", "西藏", "Tibet", "Xizang"),
    ("SN", "陕西", "Shaanxi", "Shaanxi"),
    ("GS", "甘肃", "Gansu", "Gansu"),
    ("QH", "青海", "Qinghai", "Qinghai"),
    ("NX", "宁夏", "Ningxia", "Ningxia"),
    ("XJ", "新疆", "Xinjiang", "Xinjiang"),
    ("SASAC", "国资委", "Central state-owned enterprises (SASAC)", "ZhongYangQiYe"),
]

EDITOR_PERMISSIONS = [
    "add_applicant",
    "change_applicant",
    "view_applicant",
    "add_aimodel",
    "change_aimodel",
    "view_aimodel",
    "add_batch",
    "change_batch",
    "view_batch",
    "add_source",
    "change_source",
    "view_source",
    "view_jurisdiction",
    "view_statuschange",
]
REVIEWER_PERMISSIONS = [*EDITOR_PERMISSIONS, "change_status"]


def create_jurisdictions(Jurisdiction):
    """The jurisdictions, made or brought back (the browser tests empty every table)."""
    for order, (code, name_zh, name_en, token) in enumerate(JURISDICTIONS):
        Jurisdiction.objects.update_or_create(
            code=code,
            defaults={
                "name_zh": name_zh,
                "name_en": name_en,
                "filing_token": token,
                "sort_order": order,
            },
        )


def create_reference_data(apps, schema_editor):
    create_jurisdictions(apps.get_model("tracker", "Jurisdiction"))
    # Permissions are normally created after migrations; the groups need them now.
    tracker = apps.get_app_config("tracker")
    tracker.models_module = True
    create_permissions(tracker, apps=apps, verbosity=0)
    tracker.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in (("Editors", EDITOR_PERMISSIONS), ("Reviewers", REVIEWER_PERMISSIONS)):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            Permission.objects.filter(content_type__app_label="tracker", codename__in=codenames)
        )


def remove_reference_data(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Editors", "Reviewers"]).delete()
    apps.get_model("tracker", "Jurisdiction").objects.all().delete()


# The register stamp ------------------------------------------------------------------------

SQLITE_STAMP = [
    "CREATE TABLE tracker_register_stamp "
    "(id integer PRIMARY KEY CHECK (id = 1), version integer NOT NULL)",
    "INSERT INTO tracker_register_stamp (id, version) VALUES (1, random())",
    *(
        f"CREATE TRIGGER tracker_register_stamp_{event.lower()} AFTER {event} "
        "ON tracker_aimodel BEGIN "
        "UPDATE tracker_register_stamp SET version = random() WHERE id = 1; END"
        for event in ("INSERT", "UPDATE", "DELETE")
    ),
]
SQLITE_STAMP_REMOVAL = [
    "DROP TRIGGER tracker_register_stamp_insert",
    "DROP TRIGGER tracker_register_stamp_update",
    "DROP TRIGGER tracker_register_stamp_delete",
    "DROP TABLE tracker_register_stamp",
]
# PostgreSQL: once per statement, from a sequence (which a rollback does not rewind), with
# a random start so that two databases of the same name never share a stamp.
POSTGRESQL_STAMP = [
    f"CREATE SEQUENCE tracker_register_stamp_seq START WITH {secrets.randbelow(2**62)}",
    "CREATE TABLE tracker_register_stamp "
    "(id integer PRIMARY KEY CHECK (id = 1), version bigint NOT NULL)",
    "INSERT INTO tracker_register_stamp (id, version) "
    "VALUES (1, nextval('tracker_register_stamp_seq'))",
    "CREATE FUNCTION tracker_bump_register_stamp() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN UPDATE tracker_register_stamp "
    "SET version = nextval('tracker_register_stamp_seq') WHERE id = 1; RETURN NULL; END $$",
    "CREATE TRIGGER tracker_register_stamp_bump "
    "AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tracker_aimodel "
    "FOR EACH STATEMENT EXECUTE FUNCTION tracker_bump_register_stamp()",
]
POSTGRESQL_STAMP_REMOVAL = [
    "DROP TRIGGER tracker_register_stamp_bump ON tracker_aimodel",
    "DROP FUNCTION tracker_bump_register_stamp()",
    "DROP TABLE tracker_register_stamp",
    "DROP SEQUENCE tracker_register_stamp_seq",
]

# Search ------------------------------------------------------------------------------------

END = "char(31)"


def _values(row):
    return f"{row}.id, {row}.search_text || {END}, {row}.filing_number || {END}"


SQLITE_SEARCH = [
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
SQLITE_SEARCH_REMOVAL = [
    "DROP TRIGGER tracker_aimodel_search_insert",
    "DROP TRIGGER tracker_aimodel_search_delete",
    "DROP TRIGGER tracker_aimodel_search_update",
    "DROP TABLE tracker_aimodel_search_terms",
    "DROP TABLE tracker_aimodel_search",
]
POSTGRESQL_SEARCH = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX aimodel_search_text_trgm_idx ON tracker_aimodel "
    "USING gin (UPPER(search_text) gin_trgm_ops)",
    "CREATE INDEX aimodel_filing_number_trgm_idx ON tracker_aimodel "
    "USING gin (UPPER(filing_number::text) gin_trgm_ops)",
    "CREATE FUNCTION tracker_bigrams(value text) RETURNS text[] "
    "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 10000 AS $$ "
    "SELECT COALESCE(array_agg(substr(value, i, 2)), '{}') "
    "FROM generate_series(1, char_length(value) - 1) AS i $$",
    "CREATE INDEX aimodel_bigrams_idx ON tracker_aimodel USING gin "
    "(tracker_bigrams(UPPER(search_text || chr(31) || filing_number::text)))",
]
POSTGRESQL_SEARCH_REMOVAL = [
    "DROP INDEX aimodel_bigrams_idx",
    "DROP FUNCTION tracker_bigrams(text)",
    "DROP INDEX aimodel_search_text_trgm_idx",
    "DROP INDEX aimodel_filing_number_trgm_idx",
]

# PostgreSQL: the listing order's indexes, DESC NULLS LAST ------------------------------------

LISTING_ORDER_INDEXES = {
    "aimodel_approved_idx": ("", "id"),
    "aimodel_applicant_idx": ("applicant_id, ", "id"),
    "aimodel_applicant_status_idx": ("applicant_id, status, ", "id"),
    "aimodel_status_approved_idx": ("status, ", "id"),
}


def _order_indexes(nulls):
    statements = []
    for name, (leading, last) in LISTING_ORDER_INDEXES.items():
        statements += [
            f"DROP INDEX {name}",
            f"CREATE INDEX {name} ON tracker_aimodel ({leading}approved_on DESC{nulls}, {last})",
        ]
    return statements


def _run(sqlite, postgresql):
    """A RunPython function that runs the statements of the database in use."""

    def run(apps, schema_editor):
        statements = {"sqlite": sqlite, "postgresql": postgresql}.get(
            schema_editor.connection.vendor, []
        )
        for sql in statements:
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_reference_data, remove_reference_data),
        migrations.RunPython(
            _run(SQLITE_STAMP, POSTGRESQL_STAMP),
            _run(SQLITE_STAMP_REMOVAL, POSTGRESQL_STAMP_REMOVAL),
        ),
        migrations.RunPython(
            _run(SQLITE_SEARCH, POSTGRESQL_SEARCH),
            _run(SQLITE_SEARCH_REMOVAL, POSTGRESQL_SEARCH_REMOVAL),
        ),
        migrations.RunPython(_run([], _order_indexes(" NULLS LAST")), _run([], _order_indexes(""))),
        # Statistics for the indexes: without them the planners guess, and SQLite guesses
        # wrong on large tables.
        migrations.RunPython(
            _run(["ANALYZE"], ["ANALYZE tracker_aimodel"]), migrations.RunPython.noop
        ),
    ]
