import csv
import datetime
import io
import shutil
import threading
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    AIModelFactory,
    ApplicantFactory,
    ApprovedModelFactory,
    BatchFactory,
    UserFactory,
)
from tracker.importing.lists import ImportFileError, import_list
from tracker.models import AIModel, Applicant, FilingType, PendingImport, Status, StatusChange
from tracker.opendata import files

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "published_sample.csv"
HEADER = "序号,属地,模型名称,备案单位,备案号,备案时间"
IMPORT_PAGE = "/admin/tracker/aimodel/import/"


def csv_bytes(*lines, header=HEADER, encoding="utf-8"):
    return "\n".join([header, *lines]).encode(encoding)


def snapshot():
    """Everything an import may write, to compare before and after."""
    return (
        list(AIModel.objects.order_by("pk").values()),
        list(Applicant.objects.order_by("pk").values()),
        list(StatusChange.objects.order_by("pk").values()),
    )


# A list names only filings made before it was announced: the tests' batch is announced
# after every date their rows hold (the sample's reach into 2024-12, others' into 2026-07).
ANNOUNCED = datetime.date(2026, 9, 14)


@pytest.fixture
def batch(db):
    return BatchFactory(slug="2024-04", announced_on=ANNOUNCED)


def test_the_published_sample_becomes_approved_models_in_the_batch(batch):
    result = import_list(SAMPLE.read_bytes(), batch=batch)

    assert result.written
    assert result.created_models == 22
    assert AIModel.objects.filter(batch=batch, status=Status.APPROVED).count() == 22
    ernie = AIModel.objects.get(filing_number="Beijing-WenXinYiYan-20230821")
    assert (ernie.name_zh, ernie.seq_no, ernie.approved_on) == (
        "文心一言",
        1,
        datetime.date(2023, 8, 31),
    )
    assert ernie.applicant.name_zh == "北京百度网讯科技有限公司"
    assert ernie.applicant.jurisdiction.code == "BJ"
    assert ernie.filing_type == FilingType.FILING
    assert ernie.slug


def test_every_imported_model_gets_the_first_step_of_its_history(batch, reviewer):
    import_list(SAMPLE.read_bytes(), batch=batch, by=reviewer)

    steps = StatusChange.objects.all()
    assert steps.count() == AIModel.objects.count() == 22
    step = steps.get(model__filing_number="Beijing-DeepseekChat-202404280016")
    assert (step.from_status, step.to_status, step.happened_on, step.recorded_by) == (
        "",
        Status.APPROVED,
        datetime.date(2024, 5, 13),
        reviewer,
    )


def test_jurisdictions_resolve_by_name_code_or_filing_number_token(batch):
    data = csv_bytes(
        "1,,通义千问大模型,阿里巴巴达摩院,ZheJiang-TongYiQianWen-20230901,2023-09-12",
        "2,国资委,九天,中国移动通信有限公司,ZhongYangQiYe-JiuTian-20240123,2024-02-07",
        "3,sh,日日新,上海商汤智能科技有限公司,,2023-08-31",
        "4,内蒙古自治区,某模型,内蒙古某科技有限公司,,2024-01-01",
        "5,,星火认知大模型,科大讯飞股份有限公司,,2023-09-04",
    )

    import_list(data, batch=batch)

    codes = dict(AIModel.objects.values_list("name_zh", "applicant__jurisdiction__code"))
    assert codes == {
        "通义千问大模型": "ZJ",
        "九天": "SASAC",
        "日日新": "SH",
        "某模型": "NM",
        "星火认知大模型": None,
    }


def test_applicant_names_are_normalised_so_a_company_is_never_created_twice(batch):
    existing = ApplicantFactory(name_zh="北京百度网讯科技有限公司", name_en="Baidu")
    data = csv_bytes(
        "1,北京,文心一言,\u3000北京百度网讯科技有限公司 ,,2023-08-31",
        "2,北京,文心一格,北京百度网讯科技有限公司,,2023-08-31",
        "3,北京,ＡＢＣ大模型,北京　智谱华章科技有限公司,,2023-08-31",
        "4,北京,智谱清言,北京 智谱华章科技有限公司,,2023-08-31",
    )

    result = import_list(data, batch=batch)

    assert result.created_applicants == 1
    assert existing.models.count() == 2
    # The space between two Chinese characters is a line-wrap artefact, and is removed.
    zhipu = Applicant.objects.get(name_zh="北京智谱华章科技有限公司")
    assert sorted(zhipu.models.values_list("name_zh", flat=True)) == ["ABC大模型", "智谱清言"]


def test_new_slugs_never_collide_with_the_register_or_each_other(batch):
    ApprovedModelFactory(name_en="Chatbot", slug="chatbot")
    ApprovedModelFactory(name_en="Chatbot 2", slug="chatbot-2")
    ApplicantFactory(name_en="Zhidemai", slug="zhidemai")
    data = csv_bytes(
        "1,北京,Chatbot,Zhidemai,,2024-01-28",
        "2,北京,Chatbot,iReader,,2024-01-28",
        "3,北京,Chatbot,Zhaopin,,2024-01-28",
    )

    import_list(data, batch=batch)

    slugs = set(batch.models.values_list("slug", flat=True))
    assert slugs == {"chatbot-3", "chatbot-4", "chatbot-5"}
    assert Applicant.objects.get(name_en="iReader").slug == "ireader"


def test_a_list_matches_models_already_in_the_register_by_applicant_and_name(batch):
    applicant = ApplicantFactory(name_zh="北京百度网讯科技有限公司")
    existing = ApprovedModelFactory(applicant=applicant, name_zh="文心一言", filing_number="")
    data = csv_bytes("1,北京,文心一言,北京百度网讯科技有限公司,,2023-08-31")

    result = import_list(data, batch=batch)

    assert (result.created_models, len(result.unchanged)) == (0, 1)
    assert AIModel.objects.filter(name_zh="文心一言").get() == existing


def test_english_headers_and_a_title_row_above_them_are_accepted(batch):
    data = csv_bytes(
        "seq_no,jurisdiction,model_name,applicant,filing_number,filing_date",
        "1,Beijing,Moonshot,北京月之暗面科技有限公司,Beijing-MoonShot-20231016,2023/11/3",
        header="生成式人工智能服务已备案信息,,,,,",
    )

    import_list(data, batch=batch)

    model = AIModel.objects.get()
    assert (model.name_en, model.name_zh) == ("Moonshot", "")
    assert model.approved_on == datetime.date(2023, 11, 3)


@pytest.mark.parametrize(
    "value",
    ["2023-08-31", "2023/8/31", "2023.08.31", "2023年8月31日", "20230831", "2023-08-31 00:00:00"],
)
def test_filing_dates_in_the_usual_spellings_are_read(batch, value):
    import_list(csv_bytes(f"1,北京,文心一言,北京百度网讯科技有限公司,,{value}"), batch=batch)

    assert AIModel.objects.get().approved_on == datetime.date(2023, 8, 31)


def test_importing_the_same_file_twice_changes_nothing(batch):
    import_list(SAMPLE.read_bytes(), batch=batch)
    before = snapshot()

    result = import_list(SAMPLE.read_bytes(), batch=batch)

    assert result.written
    assert (result.created_models, len(result.unchanged)) == (0, 22)
    assert snapshot() == before


def test_a_batch_export_reimports_into_an_empty_database_with_identical_rows(batch, client):
    data = csv_bytes(
        "1,北京,文心一言,北京百度网讯科技有限公司,Beijing-WenXinYiYan-20230821,2023-08-31",
        "2,上海,abab,上海稀宇科技有限公司,,2023-08-31",
        "3,,=1+1 大模型,@某某有限公司,,2023-09-04",
        "4,国资委,小可大模型,中国电科集团,,2024-12-16",
        '5,江苏,"智慧助手（小艺）",华为软件技术有限公司,,2023-09-27',
    )
    import_list(data, batch=batch)
    columns = (
        "seq_no",
        "name_zh",
        "name_en",
        "applicant__name_zh",
        "applicant__name_en",
        "applicant__jurisdiction__code",
        "filing_number",
        "approved_on",
        "status",
        "batch__slug",
    )
    before = list(AIModel.objects.order_by("seq_no").values_list(*columns))
    exported = b"".join(client.get("/batches/2024-04/export.csv").streaming_content)

    StatusChange.objects.all().delete()
    AIModel.objects.all().delete()
    Applicant.objects.all().delete()
    result = import_list(exported, batch=batch)

    assert result.created_models == 5
    assert list(AIModel.objects.order_by("seq_no").values_list(*columns)) == before
    assert before[2][1] == "=1+1 大模型"


def test_xlsx_with_date_and_number_cells_is_imported(batch, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(","))
    sheet.append(
        [
            1,
            "北京",
            "文心一言",
            "北京百度网讯科技有限公司",
            "Beijing-WenXinYiYan-20230821",
            datetime.datetime(2023, 8, 31),
        ]
    )
    sheet.append([2.0, "上海", "日日新", "上海商汤智能科技有限公司", None, "2023-08-31"])
    path = tmp_path / "list.xlsx"
    workbook.save(path)

    call_command("import_filings", str(path), batch="2024-04", stdout=io.StringIO())

    rows = AIModel.objects.order_by("seq_no").values_list("seq_no", "name_zh", "approved_on")
    assert list(rows) == [
        (1, "文心一言", datetime.date(2023, 8, 31)),
        (2, "日日新", datetime.date(2023, 8, 31)),
    ]


def test_a_gb18030_csv_is_detected_and_imported(batch):
    data = SAMPLE.read_text(encoding="utf-8-sig").encode("gb18030")

    result = import_list(data, batch=batch)

    assert result.created_models == 22
    assert AIModel.objects.filter(name_zh="书生·浦语").exists()


def test_registrations_are_imported_as_registrations(batch):
    import_list(
        csv_bytes("1,北京,某应用,北京某科技有限公司,Beijing-App-20240105S0001,2024-01-05"),
        batch=batch,
        filing_type=FilingType.REGISTRATION,
    )

    assert AIModel.objects.get().filing_type == FilingType.REGISTRATION


def test_an_explicit_type_that_a_rows_number_contradicts_is_reported(batch):
    result = import_list(
        csv_bytes(
            "1,北京,某应用,北京某科技有限公司,Beijing-App-202401010001,2024-01-05",
            "2,北京,另一应用,北京某科技有限公司,Beijing-Other-20240105S0002,2024-01-05",
        ),
        batch=batch,
        filing_type=FilingType.REGISTRATION,
    )

    assert result.problem_lines() == [
        "Row 2: the number Beijing-App-202401010001 is a filing number, but the list was "
        "imported as registration."
    ]
    assert not AIModel.objects.exists()


GOOD_ROW = "1,北京,文心一言,北京百度网讯科技有限公司,Beijing-WenXinYiYan-20230821,2023-08-31"
BAD_FILES = {
    "empty file": (b"", "empty"),
    "only white space": (b" \n\n ", "empty"),
    "wrong headers": (b"name,company,date\nx,y,2023-08-31\n", "No header row"),
    "missing header": (
        "序号,属地,模型名称,备案单位,备案时间\n1,北京,x,y,2023-08-31".encode(),
        "Row 1: the header lacks the columns 备案号",
    ),
    "header but no rows": (HEADER.encode(), "no rows"),
    "binary file renamed .csv": (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
        "binary",
    ),
    "old excel workbook": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
    "broken zip": (b"PK\x03\x04garbage", "XLSX"),
    "a 10 MB cell": (
        csv_bytes(GOOD_ROW, "2,北京," + "x" * (10 * 1024 * 1024) + ",某公司,,2023-08-31"),
        "Row 3: a cell is longer than",
    ),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_an_unreadable_file_is_refused_with_a_clear_message_and_nothing_changes(batch, name):
    data, message = BAD_FILES[name]
    ApprovedModelFactory()
    before = snapshot()

    with pytest.raises(ImportFileError, match=message):
        import_list(data, batch=batch)

    assert snapshot() == before


BAD_ROWS = {
    "unparsable date": (
        "2,北京,智谱清言,北京智谱华章科技有限公司,,31/13/2023",
        "Row 3: the filing date “31/13/2023” is not a date.",
    ),
    "empty date": (
        "2,北京,智谱清言,北京智谱华章科技有限公司,,",
        "Row 3: the filing date is empty.",
    ),
    "future date": (
        "2,北京,智谱清言,北京智谱华章科技有限公司,,2999-01-01",
        "Row 3: the filing date",
    ),
    "empty model name": (
        "2,北京,,北京智谱华章科技有限公司,,2023-08-31",
        "Row 3: the model name is empty.",
    ),
    "empty applicant": ("2,北京,智谱清言,,,2023-08-31", "Row 3: the applicant is empty."),
    "filing number held by another model": (
        "2,北京,智谱清言,北京智谱华章科技有限公司,Beijing-Held-20230821,2023-08-31",
        "Row 3: the filing number Beijing-Held-20230821 already belongs to another model",
    ),
    "filing number twice in the file": (
        "2,北京,智谱清言,北京智谱华章科技有限公司,Beijing-WenXinYiYan-20230821,2023-08-31",
        "Row 3: the filing number Beijing-WenXinYiYan-20230821 is also in row 2.",
    ),
    "swapped columns": (
        "2,北京,北京智谱华章科技有限公司,智谱清言,,2023-08-31",
        "Row 3: the model and applicant columns look swapped",
    ),
    "swapped columns in English": (
        "2,北京,Zhipu Technology Co., Ltd.,智谱清言,,2023-08-31".replace(
            "Zhipu Technology Co., Ltd.", '"Zhipu Technology Co., Ltd."'
        ),
        "Row 3: the model and applicant columns look swapped",
    ),
    "unknown jurisdiction": (
        "2,火星,智谱清言,北京智谱华章科技有限公司,,2023-08-31",
        "Row 3: the jurisdiction “火星” is unknown.",
    ),
    "overlong model name": (
        "2,北京," + "模" * 201 + ",北京智谱华章科技有限公司,,2023-08-31",
        "Row 3: the model name is longer than 200 characters.",
    ),
}


@pytest.mark.parametrize("name", BAD_ROWS)
def test_a_bad_row_is_reported_by_number_and_nothing_is_written(batch, name):
    row, message = BAD_ROWS[name]
    ApprovedModelFactory(filing_number="Beijing-Held-20230821")
    before = snapshot()

    result = import_list(csv_bytes(GOOD_ROW, row), batch=batch)

    assert not result.written
    assert any(line.startswith(message) for line in result.problem_lines()), result.problem_lines()
    assert snapshot() == before


def test_a_pending_submission_of_the_same_model_is_not_overwritten(batch):
    pending = AIModelFactory(
        name_zh="文心一言", applicant=ApplicantFactory(name_zh="北京百度网讯科技有限公司")
    )
    before = snapshot()

    result = import_list(csv_bytes(GOOD_ROW), batch=batch)

    assert "pending submission" in result.problem_lines()[0]
    assert snapshot() == before
    assert AIModel.objects.get(pk=pending.pk).status == Status.SUBMITTED


@pytest.mark.parametrize("status", [Status.REJECTED, Status.WITHDRAWN])
def test_a_refused_or_withdrawn_model_is_reported_not_counted_as_unchanged(batch, status):
    AIModelFactory(
        name_zh="文心一言",
        applicant=ApplicantFactory(name_zh="北京百度网讯科技有限公司"),
        status=status,
    )
    before = snapshot()

    result = import_list(csv_bytes(GOOD_ROW), batch=batch)

    assert not result.unchanged
    assert "contradicts" in result.problem_lines()[0]
    assert snapshot() == before


def test_english_applicant_names_match_whatever_their_case(batch):
    existing = ApplicantFactory(name_zh="", name_en="Acme Intelligence Ltd")

    result = import_list(
        csv_bytes("1,北京,Acme Chat,ACME INTELLIGENCE LTD,,2024-01-28"), batch=batch
    )

    assert result.created_applicants == 0
    assert existing.models.get().name_en == "Acme Chat"


def test_the_command_lists_every_bad_row_and_fails_without_writing(batch, tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes(
        csv_bytes(GOOD_ROW, "2,北京,,某公司,,2023-08-31", "3,北京,某模型,某公司,,yesterday")
    )
    stderr = io.StringIO()

    with pytest.raises(CommandError, match="2 rows have problems"):
        call_command("import_filings", str(path), batch="2024-04", stderr=stderr)

    assert "Row 3: the model name is empty." in stderr.getvalue()
    assert "Row 4: the filing date “yesterday” is not a date." in stderr.getvalue()
    assert not AIModel.objects.exists()
    assert not (tmp_path / "list.csv.rejected.csv").exists()


def test_skip_invalid_imports_the_good_rows_and_writes_the_rejected_ones(batch, tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes(csv_bytes(GOOD_ROW, "2,北京,,某公司,,2023-08-31", "3,北京,=x,某公司,,bad"))

    call_command(
        "import_filings",
        str(path),
        batch="2024-04",
        skip_invalid=True,
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )

    assert list(AIModel.objects.values_list("name_zh", flat=True)) == ["文心一言"]
    rejected = (tmp_path / "list.csv.rejected.csv").read_bytes()
    assert rejected.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(rejected.decode("utf-8-sig"))))
    assert rows[0] == [*HEADER.split(","), "适用场景", "filing_type", "row", "problems"]
    assert rows[1] == [
        "2",
        "北京",
        "",
        "某公司",
        "",
        "2023-08-31",
        "",
        "",
        "3",
        "the model name is empty.",
    ]
    assert rows[2][2] == "'=x"
    assert rows[2][8] == "4"


def test_a_dry_run_checks_the_file_and_writes_nothing(batch):
    stdout = io.StringIO()

    call_command("import_filings", str(SAMPLE), batch="2024-04", dry_run=True, stdout=stdout)

    assert "22 models would be created" in stdout.getvalue()
    assert not AIModel.objects.exists()
    assert not Applicant.objects.exists()


def test_the_command_refuses_an_unknown_batch_and_a_missing_file(batch, tmp_path):
    with pytest.raises(CommandError, match="No batch with the slug “nope”. Known batches: 2024-04"):
        call_command("import_filings", str(SAMPLE), batch="nope")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_filings", str(tmp_path / "missing.csv"), batch="2024-04")


def test_the_command_reports_a_file_error_with_the_file_name(batch, tmp_path):
    path = tmp_path / "empty.csv"
    shutil.copy(SAMPLE, path)
    path.write_bytes(b"")

    with pytest.raises(CommandError, match=r"empty.csv: The file is empty. Nothing was imported."):
        call_command("import_filings", str(path), batch="2024-04")


def ten_thousand_rows():
    lines = [
        f"{i},北京,测试大模型{i},测试科技有限公司{i % 3000},Beijing-Test{i}-202403010001,2024-03-01"
        for i in range(1, 10_001)
    ]
    return csv_bytes(*lines)


def test_ten_thousand_rows_import_in_a_few_queries(batch):
    data = ten_thousand_rows()

    with CaptureQueriesContext(connection) as queries:
        result = import_list(data, batch=batch)

    assert result.created_models == 10_000
    assert result.created_applicants == 3_000
    assert StatusChange.objects.count() == 10_000
    # Reads of the names and numbers the list holds, one insert per table, and the new ids
    # read back, each 2,000 at a time.
    assert len(queries) < 50


# The admin page ---------------------------------------------------------------------------


def upload(client, data, batch, name="list.csv", filing_type="filing"):
    return client.post(
        IMPORT_PAGE,
        {"file": SimpleUploadedFile(name, data), "batch": batch.pk, "filing_type": filing_type},
    )


def test_the_import_page_is_for_reviewers(client, batch):
    assert client.get(IMPORT_PAGE).status_code == 302
    client.force_login(UserFactory(is_staff=True))
    assert client.get(IMPORT_PAGE).status_code == 403
    # Every row enters the register approved: a review decision, not an editor's.
    client.force_login(UserFactory(groups=["Editors"]))
    assert client.get(IMPORT_PAGE).status_code == 403


def test_the_import_page_previews_then_imports_on_confirmation(client, batch, reviewer):
    client.force_login(reviewer)
    assert client.get(IMPORT_PAGE).status_code == 200

    preview = upload(client, SAMPLE.read_bytes(), batch)

    assert preview.status_code == 200
    assert "22 models will be created" in preview.content.decode()
    assert not AIModel.objects.exists()

    response = client.post(IMPORT_PAGE, {"token": preview.context["token"]})

    assert response.status_code == 302
    assert AIModel.objects.filter(batch=batch).count() == 22
    assert set(StatusChange.objects.values_list("recorded_by", flat=True)) == {reviewer.pk}

    again = client.post(IMPORT_PAGE, {"token": preview.context["token"]}, follow=True)
    assert "expired or was already imported" in again.content.decode()
    assert AIModel.objects.count() == 22


def test_an_import_on_the_page_rebuilds_the_downloads_in_the_background_once_committed(
    client, batch, reviewer, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.DOWNLOADS_REBUILD_AFTER_IMPORT = True
    built = threading.Event()
    monkeypatch.setattr(files, "build", lambda force=False: built.set())
    client.force_login(reviewer)
    preview = upload(client, SAMPLE.read_bytes(), batch)
    assert not built.is_set()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(IMPORT_PAGE, {"token": preview.context["token"]})

    assert response.status_code == 302
    assert built.wait(timeout=10)


def test_an_import_on_the_page_leaves_the_downloads_when_told_to(
    client, batch, reviewer, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.DOWNLOADS_REBUILD_AFTER_IMPORT = False
    monkeypatch.setattr(files, "build", lambda force=False: pytest.fail("built"))
    client.force_login(reviewer)
    preview = upload(client, SAMPLE.read_bytes(), batch)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(IMPORT_PAGE, {"token": preview.context["token"]})

    assert callbacks == []
    assert AIModel.objects.filter(batch=batch).count() == 22


def test_the_import_page_shows_bad_rows_and_imports_good_ones_only_when_asked(
    client, batch, reviewer
):
    client.force_login(reviewer)
    preview = upload(client, csv_bytes(GOOD_ROW, "2,北京,,某公司,,2023-08-31"), batch)
    assert "Row 3: the model name is empty." in preview.content.decode()

    refused = client.post(IMPORT_PAGE, {"token": preview.context["token"]})
    assert refused.status_code == 200
    assert not AIModel.objects.exists()

    client.post(IMPORT_PAGE, {"token": refused.context["token"], "skip_invalid": "on"})
    assert list(AIModel.objects.values_list("name_zh", flat=True)) == ["文心一言"]


def test_the_import_page_says_why_a_file_cannot_be_read(client, batch, reviewer):
    client.force_login(reviewer)

    response = upload(client, b"\x00\x01\x02binary", batch)

    assert response.status_code == 200
    assert "binary" in response.content.decode()
    assert not AIModel.objects.exists()


def test_the_import_page_refuses_an_oversized_file_before_reading_it(
    client, batch, reviewer, monkeypatch
):
    monkeypatch.setattr("tracker.admin.imports.MAX_FILE_BYTES", 10)
    client.force_login(reviewer)

    response = upload(client, csv_bytes(GOOD_ROW), batch)

    assert response.status_code == 200
    assert "a published list is at most" in response.text
    assert not AIModel.objects.exists()


def test_the_import_page_reads_swapped_rows_back_only_when_asked(client, batch, reviewer):
    client.force_login(reviewer)
    swapped = (
        "1,广东省,深圳市商汤科技有限公司,商汤AI代码生成模型,Guangdong-ShangTang-202503050020,"
        "2025/3/28"
    )

    refused = upload(client, csv_bytes(swapped), batch, filing_type="")
    assert "Row 2: the model and applicant columns look swapped" in refused.content.decode()

    preview = client.post(
        IMPORT_PAGE,
        {
            "file": SimpleUploadedFile("list.csv", csv_bytes(swapped)),
            "batch": batch.pk,
            "filing_type": "",
            "unswap": "on",
        },
    )
    assert "read as model “商汤AI代码生成模型” of “深圳市商汤科技有限公司”" in (
        preview.content.decode()
    )
    client.post(IMPORT_PAGE, {"token": preview.context["token"]})
    ai_model = AIModel.objects.get()
    assert (ai_model.name_zh, ai_model.applicant.name_zh) == (
        "商汤AI代码生成模型",
        "深圳市商汤科技有限公司",
    )
    assert "in each other's columns" in ai_model.history.get().note


# Lists as extracted -----------------------------------------------------------------------


def test_each_row_of_a_mixed_list_takes_the_type_its_number_says(batch):
    import_list(
        csv_bytes(
            "1,北京,某模型,北京某科技有限公司,Beijing-Model-202401010001,2024-01-05",
            "1,北京,某应用,北京某科技有限公司,Beijing-App-20240105S0001,2024-01-05",
        ),
        batch=batch,
    )

    assert dict(AIModel.objects.values_list("name_zh", "filing_type")) == {
        "某模型": FilingType.FILING,
        "某应用": FilingType.REGISTRATION,
    }
    # The same 序号 in two sequences is two rows, each its own list's.
    assert sorted(AIModel.objects.values_list("sequence", "seq_no")) == [
        ("filing", 1),
        ("registration", 1),
    ]


def test_a_number_that_contradicts_its_tables_header_is_imported_as_it_says_with_a_notice(
    batch,
):
    result = import_list(
        csv_bytes(
            "7,北京,某应用,北京某科技有限公司,Beijing-App-20240105S0001,2024-01-05",
        ),
        batch=batch,
    )

    assert result.notice_lines() == [
        "Row 2: The number Beijing-App-20240105S0001 is a registration number in a table of "
        "national filings."
    ]
    assert AIModel.objects.get().filing_type == FilingType.REGISTRATION


def test_a_registration_table_header_makes_rows_without_a_readable_number_registrations(batch):
    import_list(
        csv_bytes(
            "286,江苏省,思维向量智算云,江苏某科技有限公司,Jiangsu-SiWeiXiangLiangZhiSuanYun-,2025/9/9",
            header="序号,属地,应用/功能名称,登记单位,上线编号,登记时间",
        ),
        batch=batch,
    )

    ai_model = AIModel.objects.get()
    assert (ai_model.filing_type, ai_model.seq_no) == (FilingType.REGISTRATION, 286)
    assert ai_model.filing_number == "Jiangsu-SiWeiXiangLiangZhiSuanYun-"


def test_the_on_device_column_is_stored_and_counts_in_its_own_sequence(batch):
    ApprovedModelFactory(seq_no=1)
    import_list(
        csv_bytes(
            "1,上海市,Apple智能,苹果技术开发（上海）有限 公司,Shanghai-AppleZhiNeng- 202506160057,"
            "2026/7/8,苹果手机",
            header="序号,属地,大模型名称,备案单位,备案编号,备案时间,适用场景",
        ),
        batch=batch,
    )

    apple = AIModel.objects.get(name_zh="Apple智能")
    assert (apple.on_device_scenario, apple.sequence, apple.seq_no) == ("苹果手机", "on_device", 1)
    assert apple.applicant.name_zh == "苹果技术开发(上海)有限公司"
    assert apple.filing_number == "Shanghai-AppleZhiNeng-202506160057"


def test_a_known_note_in_the_date_cell_keeps_the_date_and_goes_to_the_history(batch):
    import_list(
        csv_bytes(
            "1,云南省,AI问答王,某工作室,Yunnan-AIWenDaWang- 20250107S0002,2025/1/7 （补登）",
            header="序号,属地,应用/功能名称,登记单位,上线编号,登记时间",
        ),
        batch=batch,
    )

    ai_model = AIModel.objects.get()
    assert ai_model.approved_on == datetime.date(2025, 1, 7)
    assert ai_model.history.get().note == (
        f"Published in {batch}. The list dates it “2025/1/7” with the note “补登” (entered late)."
    )


def test_an_unknown_note_in_the_date_cell_is_a_problem(batch):
    result = import_list(
        csv_bytes("1,北京,某模型,北京某公司,Beijing-Model-202401010001,2024/2/1 （已注销）"),
        batch=batch,
    )

    assert result.problem_lines() == [
        "Row 2: the date cell's note “已注销” is not one the lists use: check the row."
    ]
    assert not AIModel.objects.exists()


@pytest.mark.parametrize("seq_no", ["1-2", "12345678901", "No. 5"])
def test_a_sequence_number_that_is_not_a_number_is_a_problem(batch, seq_no):
    result = import_list(
        csv_bytes(f"{seq_no},北京,某模型,北京某公司,Beijing-Model-202401010001,2024-01-05"),
        batch=batch,
    )

    assert result.problem_lines() == [f"Row 2: the 序号 “{seq_no[:20]}” is not a number."]


def test_two_rows_with_one_sequence_number_are_refused(batch):
    result = import_list(
        csv_bytes(
            "5,北京,甲模型,北京甲公司,Beijing-Jia-202401010001,2024-01-05",
            "5,北京,乙模型,北京乙公司,Beijing-Yi-202401010002,2024-01-05",
        ),
        batch=batch,
    )

    assert result.problem_lines() == ["Row 3: 序号 5 of the national filings is also in row 2."]


def test_a_sequence_number_held_by_another_model_is_refused(batch):
    ApprovedModelFactory(name_zh="已有模型", seq_no=5)

    result = import_list(
        csv_bytes("5,北京,乙模型,北京乙公司,Beijing-Yi-202401010002,2024-01-05"), batch=batch
    )

    assert result.problem_lines() == [
        "Row 2: 序号 5 of the national filings already belongs to another model, “已有模型”."
    ]


def test_an_applicant_is_matched_by_an_english_name_with_spaces(batch):
    existing = ApplicantFactory(
        name_zh="北京第四范式智能技术股份有限公司", name_en="Fourth Paradigm Ltd"
    )

    result = import_list(
        csv_bytes("1,北京,式说大模型,FOURTH PARADIGM LTD,Beijing-ShiShuo-20240102,2024/1/17"),
        batch=batch,
    )

    assert (result.created_models, result.created_applicants) == (1, 0)
    assert AIModel.objects.get().applicant == existing


def test_a_model_is_matched_by_its_english_name_too(batch):
    threatbook = ApprovedModelFactory(name_zh="微步情报智脑", name_en="XGPT", filing_number="")

    result = import_list(
        csv_bytes(f"1,北京,XGPT,{threatbook.applicant.name_zh},,2024/1/17"), batch=batch
    )

    assert result.problem_lines() == []
    assert [row.existing_model for row in result.unchanged] == ["微步情报智脑"]
    assert AIModel.objects.count() == 1


def test_a_number_given_by_the_workflow_is_matched_by_a_later_list(batch, reviewer):
    from tracker import workflow

    pending = AIModelFactory(name_zh="某模型", status=Status.NATIONAL_REVIEW)
    workflow.transition(
        pending,
        Status.APPROVED,
        by=reviewer,
        on=datetime.date(2024, 2, 1),
        filing_number="Beijing-Foo- 20240201",
    )
    pending.refresh_from_db()
    assert (pending.filing_number, pending.number_key) == (
        "Beijing-Foo-20240201",
        "beijing-foo-20240201",
    )

    result = import_list(
        csv_bytes(f"9,北京,别的名字,{pending.applicant.name_zh},Beijing-Foo-20240201,2024-02-01"),
        batch=batch,
    )

    assert result.problem_lines() == [
        "Row 2: the filing number Beijing-Foo-20240201 already belongs to another model, “某模型”."
    ]


@pytest.mark.parametrize(
    "value, problem",
    [
        ("other", "the type “other” is not filing or registration."),
        ("filing", "the row's type “filing” is not the registration the list was imported as."),
    ],
)
def test_a_rows_own_type_column_must_be_a_type_and_agree_with_the_import(batch, value, problem):
    result = import_list(
        csv_bytes(
            f"1,北京,某应用,北京某公司,Beijing-App-,2024-01-05,,{value}",
            header=f"{HEADER},适用场景,filing_type",
        ),
        batch=batch,
        filing_type=FilingType.REGISTRATION if value == "filing" else None,
    )

    assert result.problem_lines() == [f"Row 2: {problem}"]


def test_an_upload_waits_in_the_database_for_its_own_uploader_only(client, batch, reviewer):
    client.force_login(reviewer)
    preview = upload(client, csv_bytes(GOOD_ROW), batch)
    token = preview.context["token"]
    assert PendingImport.objects.get().token == token

    # Another reviewer, on any instance of the site, cannot confirm it.
    client.force_login(UserFactory(groups=["Reviewers"]))
    refused = client.post(IMPORT_PAGE, {"token": token}, follow=True)
    assert "expired or was already imported" in refused.content.decode()
    assert not AIModel.objects.exists()


def test_an_upload_expires_after_a_day(client, batch, reviewer):
    client.force_login(reviewer)
    token = upload(client, csv_bytes(GOOD_ROW), batch).context["token"]
    PendingImport.objects.update(created_at=timezone.now() - datetime.timedelta(days=1, minutes=1))

    refused = client.post(IMPORT_PAGE, {"token": token}, follow=True)

    assert "expired or was already imported" in refused.content.decode()
    assert not AIModel.objects.exists()
    # The next upload clears the expired ones away.
    upload(client, csv_bytes(GOOD_ROW), batch)
    assert PendingImport.objects.count() == 1


def test_bulk_imported_rows_hold_what_save_would_store(batch):
    import_list(SAMPLE.read_bytes(), batch=batch)
    fields = ("name_zh", "name_en", "filing_number", "search_text", "name_key", "number_key")

    for ai_model in AIModel.objects.select_related("applicant"):
        stored = [getattr(ai_model, name) for name in fields]
        ai_model.save()
        assert [getattr(ai_model, name) for name in fields] == stored
    for applicant in Applicant.objects.all():
        stored = (applicant.name_zh, applicant.name_en, applicant.name_key, applicant.slug)
        applicant.save()
        assert (applicant.name_zh, applicant.name_en, applicant.name_key, applicant.slug) == stored


def test_the_import_pages_former_address_leads_to_it(client, reviewer):
    client.force_login(reviewer)

    response = client.get("/admin/tracker/import/")

    assert response.status_code == 302
    assert response["Location"] == IMPORT_PAGE


# A list and its batch's announcement ------------------------------------------------------


def test_rows_dated_after_the_batch_was_announced_are_refused_by_row(db):
    batch = BatchFactory(title_en="April list", announced_on=datetime.date(2024, 4, 2))

    result = import_list(
        csv_bytes(
            "1,北京,甲模型,北京甲公司,,2024-04-02",
            "2,北京,乙模型,北京乙公司,,2024-04-03",
            "3,北京,丙模型,北京丙公司,,2024-05-13",
        ),
        batch=batch,
    )

    assert not result.written
    assert result.problem_lines() == [
        "Row 3: the filing date 2024-04-03 is after April list was announced (2024-04-02): "
        "is this the list of another batch?",
        "Row 4: the filing date 2024-05-13 is after April list was announced (2024-04-02): "
        "is this the list of another batch?",
    ]
    assert not AIModel.objects.exists()


def test_a_batch_known_to_the_month_takes_rows_dated_to_the_months_end(db):
    batch = BatchFactory(
        title_en="November list",
        announced_on=datetime.date(2024, 11, 1),
        announced_precision="month",
    )

    result = import_list(
        csv_bytes("1,北京,甲模型,北京甲公司,,2024-11-30", "2,北京,乙模型,北京乙公司,,2024-12-01"),
        batch=batch,
    )

    assert result.problem_lines() == [
        "Row 3: the filing date 2024-12-01 is after November list was announced (2024-11): "
        "is this the list of another batch?"
    ]


def test_the_command_refuses_a_list_dated_after_its_batch(db, tmp_path):
    BatchFactory(slug="early", title_en="Early list", announced_on=datetime.date(2024, 1, 1))
    path = tmp_path / "list.csv"
    path.write_bytes(csv_bytes(GOOD_ROW, "2,北京,智谱清言,北京智谱华章科技有限公司,,2024-03-01"))
    stderr = io.StringIO()

    with pytest.raises(CommandError, match="1 rows have problems"):
        call_command("import_filings", str(path), batch="early", stderr=stderr)

    assert "Row 3: the filing date 2024-03-01 is after Early list was announced" in (
        stderr.getvalue()
    )
    assert not AIModel.objects.exists()


# The import page as the rest of the admin -------------------------------------------------


BREADCRUMBS = [
    '<a href="/admin/">Home</a>',
    '<a href="/admin/tracker/">Approval tracker</a>',
    '<a href="/admin/tracker/aimodel/">AI models</a>',
]


def test_the_import_page_has_the_admins_breadcrumbs_and_styles(client, batch, reviewer):
    client.force_login(reviewer)

    page = client.get(IMPORT_PAGE).content.decode()

    for crumb in BREADCRUMBS:
        assert crumb in page
    assert '<li aria-current="page">Import a published list</li>' in page
    assert "admin/css/forms.css" in page
    assert '<fieldset class="module aligned">' in page


def test_the_preview_has_the_admins_breadcrumbs(client, batch, reviewer):
    client.force_login(reviewer)

    page = upload(client, csv_bytes(GOOD_ROW), batch).content.decode()

    for crumb in [*BREADCRUMBS, f'<a href="{IMPORT_PAGE}">Import a published list</a>']:
        assert crumb in page
    assert '<li aria-current="page">Check the import</li>' in page


def test_a_form_error_on_the_import_page_is_announced(client, batch, reviewer):
    client.force_login(reviewer)

    response = client.post(IMPORT_PAGE, {"batch": batch.pk})

    assert "Please correct the error below." in response.content.decode()


def test_importing_without_leaving_out_the_bad_rows_says_why_nothing_happened(
    client, batch, reviewer
):
    client.force_login(reviewer)
    preview = upload(client, csv_bytes(GOOD_ROW, "2,北京,,某公司,,2023-08-31"), batch)
    assert "Nothing was imported" not in preview.content.decode()

    refused = client.post(IMPORT_PAGE, {"token": preview.context["token"]})

    assert refused.context["refusal"] == (
        "Nothing was imported: 1 row has a problem. Tick “Import the good rows and leave out "
        "the rows with problems” to import the others, or fix the file and upload it again."
    )
    assert '<p class="errornote">Nothing was imported: 1 row has a problem.' in (
        refused.content.decode()
    )
    assert not AIModel.objects.exists()


def test_the_rows_with_problems_download_as_csv_with_their_reasons(client, batch, reviewer):
    client.force_login(reviewer)
    preview = upload(client, csv_bytes(GOOD_ROW, "2,北京,,某公司,,2023-08-31"), batch)
    link = reverse("admin:tracker_aimodel_import_rejected", args=[preview.context["token"]])
    assert f'href="{link}"' in preview.content.decode()

    response = client.get(link)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows == [
        [*HEADER.split(","), "适用场景", "filing_type", "row", "problems"],
        ["2", "北京", "", "某公司", "", "2023-08-31", "", "", "3", "the model name is empty."],
    ]
    # The download leaves the upload waiting for its confirmation.
    assert PendingImport.objects.filter(token=preview.context["token"]).exists()


def test_only_the_uploader_downloads_the_rows_with_problems_while_the_upload_waits(
    client, batch, reviewer
):
    client.force_login(reviewer)
    token = upload(client, csv_bytes("1,北京,,某公司,,2023-08-31"), batch).context["token"]
    link = reverse("admin:tracker_aimodel_import_rejected", args=[token])

    client.force_login(UserFactory(groups=["Reviewers"]))
    assert client.get(link).status_code == 404
    client.force_login(UserFactory(groups=["Editors"]))
    assert client.get(link).status_code == 403

    client.force_login(reviewer)
    PendingImport.objects.update(created_at=timezone.now() - datetime.timedelta(days=2))
    assert client.get(link).status_code == 404


def test_after_an_import_the_page_links_to_the_new_models(client, batch, reviewer):
    client.force_login(reviewer)
    preview = upload(client, csv_bytes(GOOD_ROW), batch)

    response = client.post(IMPORT_PAGE, {"token": preview.context["token"]}, follow=True)

    page = response.content.decode()
    assert f'<a href="/admin/tracker/aimodel/?batch__id__exact={batch.pk}">' in page
    assert f'<a href="{batch.get_absolute_url()}">its public page</a>' in page
    listed = client.get(f"/admin/tracker/aimodel/?batch__id__exact={batch.pk}")
    assert [str(m) for m in listed.context["cl"].result_list] == ["文心一言"]
