import asyncio
import csv
import datetime
import hashlib
import io
import json
import sqlite3
import zipfile
from pathlib import Path

import frictionless
import pytest
from datasette.app import Datasette
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.factories import (
    AIModelFactory,
    ApplicantFactory,
    ApprovedModelFactory,
    BatchFactory,
    UserFactory,
)
from tracker import workflow
from tracker.analysis.exports import (
    APPLICANT_HEADER,
    BATCH_HEADER,
    HISTORY_HEADER,
    MODEL_HEADER,
    batch_export,
    cell,
)
from tracker.models import (
    AIModel,
    Applicant,
    Batch,
    FilingType,
    Jurisdiction,
    Source,
    Status,
    StatusChange,
)
from tracker.opendata import datapackage, files

pytestmark = pytest.mark.django_db

INTERNAL_MARKER = "INTERNAL-MARKER-3b9d41"
STAFF_MARKER = "staff-marker-77c2e0"
SITE = "https://tracker.example.org/"
DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "published_sample.csv"
TABLE_NAMES = [table.name for table in datapackage.SQLITE_TABLES]


@pytest.fixture
def downloads(settings, tmp_path):
    settings.DOWNLOADS_ROOT = tmp_path / "downloads"
    settings.SITE_URL = SITE
    return settings.DOWNLOADS_ROOT


@pytest.fixture
def register():
    """A small register with every kind of record, a secret note and a staff member's
    name in its history."""
    staff = UserFactory(username=STAFF_MARKER, first_name=STAFF_MARKER)
    group = ApplicantFactory(name_zh="集团有限公司", name_en="Group")
    applicant = ApplicantFactory(name_zh="北京测试科技有限公司", name_en="", parent=group)
    batch = BatchFactory(slug="cac-2024-04", title_zh="第一批", title_en="First list")
    filed = ApprovedModelFactory(
        name_zh="测试大模型",
        name_en="=Formula Model",
        applicant=applicant,
        batch=batch,
        seq_no=1,
        internal_notes=INTERNAL_MARKER,
        description="Public description.",
    )
    ApprovedModelFactory(
        name_zh="测试应用",
        name_en="",
        applicant=applicant,
        batch=batch,
        filing_type=FilingType.REGISTRATION,
        filing_number="Beijing-TestApp-20240301S0001",
        upstream=filed,
        seq_no=1,
    )
    pending = AIModelFactory(applicant=group, internal_notes=INTERNAL_MARKER, sector="finance")
    workflow.transition(
        pending,
        Status.PROVINCIAL_REVIEW,
        by=staff,
        on=datetime.date(2024, 2, 1),
        note="Reported by the company.",
    )
    source = Source.objects.create(title="News of the round", url="https://example.org/news")
    source.ai_models.add(filed)
    return {"filed": filed, "pending": pending, "applicant": applicant, "batch": batch}


def build(*args):
    out = io.StringIO()
    call_command("build_downloads", *args, stdout=out)
    return out.getvalue()


def current(downloads):
    return files.published(downloads)


def open_sqlite(downloads):
    path = current(downloads).directory / files.SQLITE_NAME
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def zip_members(downloads):
    path = current(downloads).directory / files.ZIP_NAME
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def csv_rows(data):
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def hashes(downloads):
    published = current(downloads)
    return {entry["name"]: entry["sha256"] for entry in published.manifest["files"]}


# The command ------------------------------------------------------------------------------


def test_the_command_writes_every_file_and_says_what_it_wrote(register, downloads):
    out = build()

    published = current(downloads)
    names = [entry["name"] for entry in published.manifest["files"]]
    assert names == ["register.sqlite", "register-csv.zip", "lists/cac-2024-04.csv"]
    assert "  register.sqlite: " in out
    assert "models 3, history 4" in out
    assert "  register-csv.zip: " in out
    assert "  lists/cac-2024-04.csv: " in out
    assert f"Wrote 3 files to {downloads}" in out
    assert (downloads / "current").is_symlink()


def test_the_manifest_gives_each_files_true_size_hash_and_rows(register, downloads):
    build()

    published = current(downloads)
    for entry in published.manifest["files"]:
        path = published.directory / entry["name"]
        assert entry["size"] == path.stat().st_size
        assert entry["sha256"] == sha256(path)
    by_name = {entry["name"]: entry for entry in published.manifest["files"]}
    assert by_name["register-csv.zip"]["rows"] == {
        "models": 3,
        "applicants": 2,
        "batches": 1,
        "history": 4,
    }
    assert by_name["lists/cac-2024-04.csv"]["rows"] == {"models": 2}
    assert published.manifest["stamp"] is not None
    assert published.manifest["site_url"] == SITE


def test_a_second_run_says_up_to_date_and_changes_no_file(register, downloads):
    build()
    before = hashes(downloads)
    directory = current(downloads).directory

    out = build()

    assert "are up to date" in out
    assert "nothing was rebuilt" in out
    assert current(downloads).directory == directory
    assert hashes(downloads) == before


def test_forced_builds_of_the_same_register_are_identical_byte_for_byte(register, downloads):
    build()
    before = hashes(downloads)
    directory = current(downloads).directory

    out = build("--force")

    assert "Wrote 3 files" in out
    assert current(downloads).directory != directory
    assert hashes(downloads) == before


def test_a_change_to_the_register_rebuilds_the_files(register, downloads):
    build()
    before = hashes(downloads)
    applicant = register["applicant"]
    applicant.name_en = "Renamed Technology"
    applicant.save()

    out = build()

    assert "Wrote 3 files" in out
    after = hashes(downloads)
    assert after["register.sqlite"] != before["register.sqlite"]
    assert after["register-csv.zip"] != before["register-csv.zip"]
    models = csv_rows(zip_members(downloads)["models.csv"])
    assert "Renamed Technology" in [row[MODEL_HEADER.index("applicant_en")] for row in models]


def test_builds_keep_the_previous_directory_for_downloads_under_way_and_no_older(
    register, downloads
):
    build()
    first = current(downloads).directory
    build("--force")
    second = current(downloads).directory
    build("--force")

    builds = sorted(path.name for path in downloads.glob("build-*"))
    assert builds == sorted([second.name, current(downloads).directory.name])
    assert not first.exists()


def test_an_unwritable_directory_is_a_clear_error(register, settings, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    settings.DOWNLOADS_ROOT = blocker / "downloads"

    with pytest.raises(CommandError, match="Cannot write the downloads to .*a-file/downloads"):
        build()


def test_an_import_rebuilds_the_downloads_unless_told_not_to(downloads):
    # Announced after the sample's latest filing date (2024-12-16).
    BatchFactory(slug="2024-04", announced_on=datetime.date(2025, 1, 8))
    build()
    before = hashes(downloads)

    dry = io.StringIO()
    call_command("import_filings", str(SAMPLE), batch="2024-04", dry_run=True, stdout=dry)
    assert hashes(downloads) == before

    skipped = io.StringIO()
    call_command("import_filings", str(SAMPLE), batch="2024-04", no_downloads=True, stdout=skipped)
    assert "Bulk downloads rebuilt" not in skipped.getvalue()
    assert hashes(downloads) == before

    # The same list again changes nothing, so nothing is rebuilt.
    again = io.StringIO()
    call_command("import_filings", str(SAMPLE), batch="2024-04", stdout=again)
    assert "Bulk downloads rebuilt" not in again.getvalue()
    assert hashes(downloads) == before


def test_an_import_that_changes_the_register_rebuilds_the_downloads(downloads):
    # Announced after the sample's latest filing date (2024-12-16).
    BatchFactory(slug="2024-04", announced_on=datetime.date(2025, 1, 8))
    build()

    out = io.StringIO()
    call_command("import_filings", str(SAMPLE), batch="2024-04", stdout=out)

    assert f"Bulk downloads rebuilt in {downloads}" in out.getvalue()
    rows = current(downloads).entry("lists/2024-04.csv")["rows"]
    assert rows == {"models": AIModel.objects.count()}


# The SQLite file ----------------------------------------------------------------------------


def test_the_sqlite_file_holds_every_public_table_with_the_databases_counts(register, downloads):
    build()

    with open_sqlite(downloads) as db:
        counts = {
            name: db.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for name in TABLE_NAMES
        }
    assert counts == {
        "jurisdictions": Jurisdiction.objects.count(),
        "applicants": Applicant.objects.count(),
        "batches": Batch.objects.count(),
        "models": AIModel.objects.count(),
        "history": StatusChange.objects.count(),
        "sources": Source.objects.count(),
        "model_sources": Source.ai_models.through.objects.count(),
    }
    sqlite_rows = current(downloads).entry("register.sqlite")["rows"]
    assert sqlite_rows == counts


def test_the_sqlite_files_foreign_keys_hold_and_join(register, downloads):
    build()

    with open_sqlite(downloads) as db:
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = db.execute(
            "SELECT m.name_zh, a.name_zh, j.code, b.slug, u.name_zh, h.to_status "
            "FROM models m JOIN applicants a ON a.id = m.applicant_id "
            "JOIN jurisdictions j ON j.id = a.jurisdiction_id "
            "JOIN batches b ON b.id = m.batch_id "
            "JOIN models u ON u.id = m.upstream_id "
            "JOIN history h ON h.model_id = m.id"
        ).fetchall()
        assert rows == [
            ("测试应用", "北京测试科技有限公司", "BJ", "cac-2024-04", "测试大模型", "approved")
        ]
        parent = db.execute(
            "SELECT p.name_en FROM applicants a JOIN applicants p ON p.id = a.parent_id"
        ).fetchall()
        assert parent == [("Group",)]
        cited = db.execute(
            "SELECT s.title, m.slug FROM sources s JOIN model_sources ms ON ms.source_id = s.id "
            "JOIN models m ON m.id = ms.model_id"
        ).fetchall()
        assert cited == [("News of the round", register["filed"].slug)]
        declared = {
            (table, row[2], row[3])
            for table in TABLE_NAMES
            for row in db.execute(f"PRAGMA foreign_key_list({table})")
        }
        assert ("models", "applicants", "applicant_id") in declared
        assert ("history", "models", "model_id") in declared
        indexed = {
            db.execute(f"PRAGMA index_info({index[1]})").fetchone()[2]
            for table in TABLE_NAMES
            for index in db.execute(f"PRAGMA index_list({table})")
        }
        assert {"applicant_id", "batch_id", "upstream_id", "model_id", "jurisdiction_id"} <= indexed
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)


def test_the_sqlite_readme_describes_the_file_every_table_and_every_column(register, downloads):
    build()

    with open_sqlite(downloads) as db:
        readme = {
            (table, column): (en, zh)
            for table, column, en, zh in db.execute("SELECT * FROM README")
        }
        tables = [
            row[0]
            for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not row[0].startswith("sqlite_")
        ]
        columns = {
            (table, row[1]) for table in tables for row in db.execute(f"PRAGMA table_info({table})")
        }
    assert sorted(tables) == sorted([*TABLE_NAMES, "README"])
    expected = {("", "")} | {(t, "") for t in tables} | columns
    assert set(readme) == expected
    for en, zh in readme.values():
        assert en.strip() and zh.strip()
    file_en, file_zh = readme[("", "")]
    assert "Cyberspace Administration of China" in file_en
    assert "国家互联网信息办公室" in file_zh
    assert str(current(downloads).manifest["stamp"]) in file_en


def test_the_sqlite_file_opens_in_the_sqlite3_client_as_it_is(register, downloads):
    build()

    path = current(downloads).directory / files.SQLITE_NAME
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM models WHERE status = 'approved'").fetchone() == (
            2,
        )
        unknown = db.execute(
            "SELECT filing_number, approved_on, approved_on_estimated FROM models "
            "WHERE status = 'provincial_review'"
        ).fetchone()
    assert unknown == (None, None, None)


def test_the_sqlite_file_opens_in_datasette_as_it_is(register, downloads):
    build()
    path = current(downloads).directory / files.SQLITE_NAME

    async def browse():
        datasette = Datasette([str(path)], immutables=[])
        await datasette.invoke_startup()
        tables = await datasette.client.get("/register.json")
        models = await datasette.client.get(
            "/register/models.json?_shape=array&_labels=on&status=approved&_sort=id"
        )
        readme = await datasette.client.get("/register/README.json?_shape=array&_size=max")
        return tables, models, readme

    tables, models, readme = asyncio.run(browse())

    assert tables.status_code == 200
    shown = {table["name"] for table in tables.json()["tables"] if not table["hidden"]}
    assert shown == {*TABLE_NAMES, "README"}
    by_name = {table["name"]: table for table in tables.json()["tables"]}
    assert {key["other_table"] for key in by_name["models"]["foreign_keys"]["outgoing"]} == {
        "applicants",
        "batches",
        "models",
    }
    assert models.status_code == 200
    rows = models.json()
    # Datasette reads the foreign key to the applicant as one.
    applicant = register["applicant"].pk
    assert [(row["name_zh"], row["applicant_id"]["value"]) for row in rows] == [
        ("测试大模型", applicant),
        ("测试应用", applicant),
    ]
    assert readme.status_code == 200
    assert {row["table_name"] for row in readme.json()} == {"", "README", *TABLE_NAMES}


# The CSV and JSON Lines zip -------------------------------------------------------------------


def test_the_zip_holds_csv_and_json_lines_of_each_table_and_a_data_package(register, downloads):
    build()

    members = zip_members(downloads)
    assert sorted(members) == sorted(
        [
            *(
                f"{name}.{ext}"
                for name in ("models", "applicants", "batches", "history")
                for ext in ("csv", "jsonl")
            ),
            "datapackage.json",
        ]
    )
    headers = {name: csv_rows(members[f"{name}.csv"])[0] for name in datapackage.HEADERS}
    assert headers == {
        "models": MODEL_HEADER,
        "applicants": APPLICANT_HEADER,
        "batches": BATCH_HEADER,
        "history": HISTORY_HEADER,
    }
    assert members["models.csv"].startswith(b"\xef\xbb\xbf")


def test_the_data_package_is_valid_and_describes_every_field_in_both_languages(
    register, downloads, tmp_path
):
    build()
    target = tmp_path / "unzipped"
    with zipfile.ZipFile(current(downloads).directory / files.ZIP_NAME) as archive:
        archive.extractall(target)

    report = frictionless.validate(target / "datapackage.json")

    assert report.valid, report.flatten(["type", "note"])
    package = json.loads((target / "datapackage.json").read_text(encoding="utf-8"))
    assert [r["name"] for r in package["resources"]] == [
        "models",
        "applicants",
        "batches",
        "history",
    ]
    for resource in package["resources"]:
        assert resource["encoding"] == "utf-8-sig"
        header = datapackage.HEADERS[resource["name"]]
        fields = resource["schema"]["fields"]
        assert [f["name"] for f in fields] == header
        for field in fields:
            assert field["type"] in ("string", "integer", "boolean", "date", "datetime")
            assert field["description"].strip()
            assert field["description_zh"].strip()
    types = {f["name"]: f["type"] for f in package["resources"][0]["schema"]["fields"]}
    assert types["approved_on"] == "date"
    assert types["seq_no"] == "integer"
    assert types["approved_on_estimated"] == "boolean"


def test_the_data_package_validator_finds_a_broken_foreign_key(register, downloads, tmp_path):
    build()
    target = tmp_path / "unzipped"
    with zipfile.ZipFile(current(downloads).directory / files.ZIP_NAME) as archive:
        archive.extractall(target)
    history = (target / "history.csv").read_text(encoding="utf-8-sig")
    (target / "history.csv").write_text(
        history.replace(SITE + "models/", SITE + "models/missing-", 1), encoding="utf-8-sig"
    )

    report = frictionless.validate(target / "datapackage.json")

    assert not report.valid
    assert [error[0] for error in report.flatten(["type"])] == ["foreign-key"]


def test_each_json_lines_file_matches_its_csv_row_by_row(register, downloads):
    build()

    members = zip_members(downloads)
    for name, header in datapackage.HEADERS.items():
        rows = csv_rows(members[f"{name}.csv"])[1:]
        records = [json.loads(line) for line in members[f"{name}.jsonl"].decode().splitlines()]
        assert [list(record) for record in records] == [header] * len(records)
        as_cells = [[str(cell(value)) for value in record.values()] for record in records]
        assert as_cells == rows, name
    models = [json.loads(line) for line in members["models.jsonl"].decode().splitlines()]
    filed = next(m for m in models if m["name_en"] == "=Formula Model")
    assert filed["seq_no"] == 1
    assert filed["approved_on"] == "2024-03-01"
    assert filed["approved_on_estimated"] is False
    assert filed["url"] == f"{SITE}models/{register['filed'].slug}/"
    pending = next(m for m in models if m["status"] == "provincial_review")
    assert pending["filing_number"] is None
    assert (
        pending["days_in_review"]
        == (
            datetime.date.fromisoformat(current(downloads).manifest["as_of"])
            - pending_submitted(register)
        ).days
    )


def pending_submitted(register):
    return register["pending"].submitted_on


def test_the_zips_models_csv_is_the_sites_export_by_id(register, downloads, client):
    build()

    members = zip_members(downloads)
    export = csv_rows(b"".join(client.get("/models/export.csv").streaming_content))
    ours = csv_rows(members["models.csv"])
    assert ours[0] == export[0]
    url = MODEL_HEADER.index("url")
    days = MODEL_HEADER.index("days_in_review")

    def comparable(rows):
        return sorted(
            (row[:days] + row[days + 1 : url] + row[url + 1 :], row[url].rsplit("/models/")[1])
            for row in rows[1:]
        )

    assert comparable(ours) == comparable(export)


def test_the_published_lists_are_the_batch_exports(register, downloads):
    build()

    published = current(downloads)
    expected = b"".join(batch_export(register["batch"]).chunks())
    assert (published.directory / "lists/cac-2024-04.csv").read_bytes() == expected


def test_no_file_holds_internal_notes_or_who_recorded_a_step(register, downloads):
    build()

    published = current(downloads)
    contents = [path.read_bytes() for path in published.directory.rglob("*") if path.is_file()]
    contents += zip_members(downloads).values()
    assert len(contents) == 4 + 9
    for data in contents:
        for marker in (INTERNAL_MARKER, STAFF_MARKER):
            assert marker.encode() not in data
            assert marker.encode("utf-16-le") not in data
    assert any(b"Reported by the company." in data for data in contents)


# The pages ---------------------------------------------------------------------------------


def test_the_downloads_page_says_when_nothing_was_built_yet(client, downloads):
    response = client.get("/downloads/")

    assert response.status_code == 200
    assert "No files have been built yet." in response.text
    assert "manage.py build_downloads" in response.text
    assert client.get("/downloads/register.sqlite").status_code == 404


def test_the_downloads_page_lists_each_file_with_size_rows_date_and_hash(
    register, downloads, client
):
    build()

    response = client.get("/downloads/")

    assert response.status_code == 200
    text = response.text
    manifest = current(downloads).manifest
    for entry in manifest["files"]:
        assert f'href="/downloads/{entry["name"]}"' in text
        assert f"{entry['size']:,} bytes" in text
        assert f'<code class="code">{entry["sha256"]}</code>' in text
    assert "<code>history</code> 4" in text
    assert "First list" in text
    assert "The register has changed" not in text
    assert "No files have been built yet." not in text
    assert 'href="/downloads/manifest.json"' in text
    assert '<a href="/downloads/">Bulk downloads</a>' in text


def test_the_downloads_page_says_when_the_register_changed_after_the_build(
    register, downloads, client
):
    build()
    register["applicant"].name_en = "Changed"
    register["applicant"].save()

    response = client.get("/downloads/")

    assert "The register has changed since these files were built." in response.text


def test_the_downloads_page_speaks_chinese(register, downloads, client):
    build()

    response = client.get("/downloads/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert '<html lang="zh-hans">' in response.text
    assert "<h1>批量下载</h1>" in response.text
    assert "第一批" in response.text
    assert "Bulk downloads" not in response.text


def test_the_empty_downloads_page_speaks_chinese(client, downloads):
    response = client.get("/downloads/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert "尚未生成任何文件。" in response.text


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("register.sqlite", "application/vnd.sqlite3"),
        ("register-csv.zip", "application/zip"),
        ("lists/cac-2024-04.csv", "text/csv; charset=utf-8"),
        ("manifest.json", "application/json"),
    ],
)
def test_a_file_downloads_with_its_bytes_and_headers(
    register, downloads, client, name, content_type
):
    build()
    path = current(downloads).directory / name

    response = client.get(f"/downloads/{name}")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == path.read_bytes()
    assert response["Content-Type"] == content_type
    assert response["Content-Length"] == str(path.stat().st_size)
    assert response["Content-Disposition"] == f'attachment; filename="{Path(name).name}"'


@pytest.mark.parametrize(
    "path",
    [
        "/downloads/nothing.csv",
        "/downloads/../db.sqlite3",
        "/downloads/%2e%2e/%2e%2e/manage.py",
        "/downloads/lists/../register.sqlite",
        "/downloads/current/register.sqlite",
        "/downloads/.lock",
        "/downloads/lists/",
        "/downloads/lists/..%2fmanifest.json",
    ],
)
def test_unknown_names_and_paths_out_of_the_directory_are_not_found(
    register, downloads, client, path
):
    build()

    assert client.get(path).status_code == 404
