import csv
import datetime
import io
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F, Value
from django.http import StreamingHttpResponse
from django.utils import timezone

from tests.factories import (
    AIModelFactory,
    ApplicantFactory,
    ApprovedModelFactory,
    BatchFactory,
    jurisdiction,
)
from tracker.analysis.exports import (
    APPLICANT_HEADER,
    BACKLOG_HEADER,
    CHUNK_ROWS,
    MODEL_HEADER,
    PUBLISHED_HEADER,
    Cell,
    Joined,
    cell,
    csv_chunks,
    model_rows,
    models_export,
    query_chunks,
)
from tracker.models import AIModel, Jurisdiction, Status, StatusChange

BOM = "\ufeff".encode()


def content(response):
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content)


def parse(data):
    assert data.startswith(BOM)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def get_csv(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return response, parse(content(response))


def test_models_export_has_the_design_columns_in_order_and_a_dated_file_name(client, db):
    ApprovedModelFactory(name_zh="文心一言", name_en="ERNIE Bot")

    response, rows = get_csv(client, "/models/export.csv")

    assert rows[0] == MODEL_HEADER
    assert MODEL_HEADER[:5] == [
        "filing_number",
        "name_zh",
        "name_en",
        "applicant_zh",
        "applicant_en",
    ]
    assert MODEL_HEADER[5:10] == ["jurisdiction", "filing_type", "scope", "sector", "status"]
    assert MODEL_HEADER[10:15] == ["submitted_on", "approved_on", "batch", "days_in_review", "url"]
    # Appended after the design's first fifteen, never reordered.
    assert MODEL_HEADER[15:] == [
        "approved_on_estimated",
        "seq_no",
        "upstream_filing_number",
        "on_device_scenario",
    ]
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="models-{today}.csv"'


def test_models_export_row_holds_iso_dates_empty_unknowns_and_an_absolute_url(client, db):
    batch = BatchFactory(slug="2024-04")
    model = ApprovedModelFactory(
        name_zh="文心一言",
        name_en="",
        applicant=ApplicantFactory(name_zh="北京百度网讯科技有限公司", name_en=""),
        filing_number="Beijing-WenXinYiYan-20230821",
        submitted_on=datetime.date(2024, 1, 10),
        approved_on=datetime.date(2024, 3, 1),
        batch=batch,
        sector="",
    )

    _response, rows = get_csv(client, "/models/export.csv")

    assert rows[1] == [
        "Beijing-WenXinYiYan-20230821",
        "文心一言",
        "",
        "北京百度网讯科技有限公司",
        "",
        "BJ",
        "filing",
        "general",
        "",
        "approved",
        "2024-01-10",
        "2024-03-01",
        "2024-04",
        "51",
        f"http://testserver/models/{model.slug}/",
        "false",
        "",
        "",
        "",
    ]


def test_models_export_uses_the_listing_filters(client, db):
    approved = ApprovedModelFactory()
    AIModelFactory()

    _response, rows = get_csv(client, "/models/export.csv", status="approved")

    assert [row[1] for row in rows[1:]] == [approved.name_zh]


def test_a_bad_filter_refuses_the_export_in_plain_text(client, db):
    ApprovedModelFactory()
    AIModelFactory()

    response = client.get(
        "/models/export.csv",
        {
            "status": "aproved",
            "submitted_after": "not-a-date",
            "jurisdiction": "XX",
            "sort": "--x",
        },
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == (
        "The export was not made: a filter cannot be used as given.\n"
        "\n"
        "status “aproved”: not a known value.\n"
        "jurisdiction “XX”: no such entry in the register.\n"
        "submitted_after “not-a-date”: not a date in the form YYYY-MM-DD.\n"
        "sort “--x”: not a column that can be sorted.\n"
    )


def test_a_bad_filter_is_refused_in_the_readers_language(client, db):
    response = client.get(
        "/models/export.csv", {"status": "aproved"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )

    assert response.status_code == 400
    assert "status “aproved”：不是已知的值。" in response.content.decode()


def test_the_export_refuses_a_second_value_of_a_one_value_filter(client, db):
    response = client.get("/models/export.csv", {"sort": ["name", "status"]})

    assert response.status_code == 400
    assert response.content.decode().splitlines()[-1] == "sort: give one value."


def read(response):
    """``response``, read to its end as a reader does before asking for the next file: an
    export holds its slot until then (tracker.limits.at_once)."""
    assert response.status_code == 200
    b"".join(response.streaming_content)
    return response


def test_the_file_name_describes_the_filter(client, db):
    batch = BatchFactory(slug="cac-2024-04")
    ApprovedModelFactory(batch=batch)
    today = timezone.localdate().isoformat()

    filtered = read(
        client.get(
            "/models/export.csv",
            {"status": ["approved", "suspended"], "jurisdiction": "BJ", "batch": batch.slug},
        )
    )
    searched = read(
        client.get("/models/export.csv", {"q": "文心 一言", "approved_after": "2024-01-01"})
    )
    everything = read(client.get("/models/export.csv"))

    assert filtered["Content-Disposition"] == (
        f'attachment; filename="models_status-approved+suspended_jurisdiction-BJ'
        f'_batch-cac-2024-04_{today}.csv"'
    )
    # A Chinese search is named as typed, as RFC 6266 carries non-ASCII names.
    assert searched["Content-Disposition"] == (
        "attachment; filename*=utf-8''"
        + quote(f"models_q-文心-一言_approved_after-2024-01-01_{today}.csv")
    )
    assert everything["Content-Disposition"] == f'attachment; filename="models-{today}.csv"'


def test_the_export_command_refuses_a_bad_filter(db):
    with pytest.raises(CommandError, match="status “aproved”: not a known value."):
        call_command("export_csv", "models", "status=aproved", stdout=io.StringIO())


def test_models_export_reads_the_rows_in_one_query(client, db, django_assert_num_queries):
    ApprovedModelFactory.create_batch(3)
    AIModelFactory.create_batch(2)

    # 1: the register stamp, for the validators; 2: the models with their applicant,
    # jurisdiction and batch, in one values query.
    with django_assert_num_queries(2):
        rows = parse(content(client.get("/models/export.csv")))
    assert len(rows) == 6


def test_text_that_looks_like_a_formula_is_guarded_and_numbers_stay_numbers(client, db):
    ApprovedModelFactory(
        name_zh="=1+1",
        name_en="@SUM(A1)",
        sector="-2+3",
        submitted_on=datetime.date(2024, 1, 10),
        approved_on=datetime.date(2024, 3, 1),
    )

    _response, rows = get_csv(client, "/models/export.csv")

    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["name_zh"] == "'=1+1"
    assert row["name_en"] == "'@SUM(A1)"
    assert row["sector"] == "'-2+3"
    assert row["days_in_review"] == "51"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+86 10", "'+86 10"),
        ("-x", "'-x"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=1", "a=1"),
        (-5, -5),
        (3.5, 3.5),
        (0, 0),
        (None, ""),
        (datetime.date(2024, 5, 1), "2024-05-01"),
    ],
)
def test_a_cell_is_guarded_only_when_it_is_text(value, expected):
    assert cell(value) == expected


def _formula_register():
    """One registration whose every free-text column starts as a formula would, on a
    filing whose number does too; values written as they are stored, past validation."""
    upstream = ApprovedModelFactory()
    model = ApprovedModelFactory(
        applicant=ApplicantFactory(jurisdiction=jurisdiction("SH")),
        filing_type="registration",
        upstream=upstream,
        approved_on_estimated=True,
        submitted_on=datetime.date(2024, 1, 10),
        approved_on=datetime.date(2024, 3, 1),
    )
    AIModel.objects.filter(pk=upstream.pk).update(filing_number="=U1")
    AIModel.objects.filter(pk=model.pk).update(
        filing_number="-F1",
        name_zh="\t模型",
        name_en="\rModel",
        sector="@sector",
        on_device_scenario="+手机",
    )
    model.applicant.__class__.objects.filter(pk=model.applicant_id).update(
        name_zh="=公司", name_en="+Company"
    )
    Jurisdiction.objects.filter(pk=model.applicant.jurisdiction_id).update(code="@J")
    model.batch.__class__.objects.filter(pk=model.batch_id).update(slug="-batch")
    return model


def test_every_text_column_of_the_export_is_guarded_by_the_query(client, db):
    model = _formula_register()

    _response, rows = get_csv(client, "/models/export.csv", filing_type="registration")

    assert rows[1:] == [
        [
            "'-F1",
            "'\t模型",
            "'\rModel",
            "'=公司",
            "'+Company",
            "'@J",
            "registration",
            "general",
            "'@sector",
            "approved",
            "2024-01-10",
            "2024-03-01",
            "'-batch",
            "51",
            f"http://testserver/models/{model.slug}/",
            "true",
            "",
            "'=U1",
            "'+手机",
        ]
    ]


def test_the_export_is_the_bytes_the_python_writer_makes_of_the_same_rows(db):
    # The query writes the cells (Cell); cell() is the rule's other reading. Both must
    # agree on every kind of value: guarded text, quotes, commas, line breaks, Chinese,
    # unknown dates, estimated and exact approvals, a pending model's days.
    _formula_register()
    ApprovedModelFactory(name_zh='引号"与,逗号', name_en="two\nlines", approved_on_estimated=True)
    ApprovedModelFactory(name_en="", sector="教育")
    AIModelFactory(submitted_on=None, name_zh="𠮷野家")
    AIModelFactory(status=Status.NATIONAL_REVIEW)
    queryset = AIModel.objects.order_by("pk")
    base_url = "http://testserver/"

    written = b"".join(models_export(queryset, base_url).chunks())

    assert written == b"".join(csv_chunks(MODEL_HEADER, model_rows(queryset, base_url)))
    assert len(parse(written)) == 7


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("name_en", "=1+1"),
        ("name_en", "+86 10"),
        ("name_en", "-x"),
        ("name_en", "@x"),
        ("name_en", "\tx"),
        ("name_en", "\rx"),
        ("name_en", "a=1"),
        ("name_en", ""),
        ("name_en", "大模型"),
        ("approved_on_estimated", True),
        ("approved_on_estimated", False),
        ("submitted_on", datetime.date(2024, 1, 5)),
        ("submitted_on", None),
        ("seq_no", 7),
        ("seq_no", None),
    ],
)
def test_the_query_writes_a_cell_as_cell_does(db, column, value):
    model = ApprovedModelFactory()
    AIModel.objects.filter(pk=model.pk).update(**{column: value})
    queryset = AIModel.objects.filter(pk=model.pk).values_list(Cell(F(column)))

    assert list(query_chunks(queryset)) == [[(cell(value) if value is not None else None,)]]


def test_the_query_guards_a_choice_leaves_unknown_empty_and_trusts_an_address(db):
    model = ApprovedModelFactory(batch=None)
    queryset = AIModel.objects.filter(pk=model.pk)
    address = Joined(Value("http://testserver/models/"), "slug", Value("/"))
    formula = Joined(Value("=HYPERLINK("), "slug", Value(")"))

    cells = queryset.values_list(
        Cell(F("status")), Cell(F("batch__slug")), Cell(address), Cell(formula)
    )

    assert list(query_chunks(cells)) == [
        [
            (
                "approved",
                None,
                f"http://testserver/models/{model.slug}/",
                f"'=HYPERLINK({model.slug})",
            )
        ]
    ]


def test_a_head_request_for_an_export_reads_no_rows(client, db, django_assert_num_queries):
    ApprovedModelFactory()

    # The register stamp, for the validators, and nothing else.
    with django_assert_num_queries(1):
        response = client.head("/models/export.csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"


def test_the_query_writes_no_cell_of_a_date_and_time(db):
    ApprovedModelFactory()
    queryset = StatusChange.objects.values_list(Cell(F("recorded_at")))

    with pytest.raises(TypeError, match="A DateTimeField has no CSV cell in SQL"):
        list(query_chunks(queryset))


def test_an_export_that_selects_nothing_is_its_header_alone(client, db):
    ApprovedModelFactory()

    response = client.get("/models/export.csv", {"status": "rejected"})

    assert list(response.streaming_content) == [BOM + (",".join(MODEL_HEADER) + "\r\n").encode()]


def test_the_writer_writes_a_bom_once_and_the_header_first():
    data = b"".join(csv_chunks(["a", "b"], [(1, "x")] * 1200, chunk_rows=500))

    assert data.count(BOM) == 1
    assert parse(data)[0] == ["a", "b"]
    assert len(parse(data)) == 1201


def test_chinese_text_round_trips_through_an_export(client, db):
    names = ["书生·浦语", "面壁露卡 LUCA", "美团大模型「通慧」", "𠮷野家大模型"]
    for name in names:
        ApprovedModelFactory(name_zh=name, applicant=ApplicantFactory(name_zh=f"{name}有限公司"))

    _response, rows = get_csv(client, "/models/export.csv", sort="name")

    exported = {row[1] for row in rows[1:]}
    assert exported == set(names)
    assert {row[3] for row in rows[1:]} == {f"{name}有限公司" for name in names}


def test_applicants_export_has_one_row_per_applicant_with_counts(client, db):
    applicant = ApplicantFactory(name_zh="北京智谱华章科技有限公司", name_en="Zhipu AI")
    ApprovedModelFactory(applicant=applicant)
    AIModelFactory(applicant=applicant)

    response, rows = get_csv(client, "/applicants/export.csv")

    assert rows[0] == APPLICANT_HEADER
    assert response["Content-Disposition"].startswith('attachment; filename="applicants-')
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["name_zh"] == "北京智谱华章科技有限公司"
    assert row["models"] == "2"
    assert row["approved"] == "1"
    assert row["submitted"] == "1"
    assert row["url"] == f"http://testserver/applicants/{applicant.slug}/"


def test_backlog_export_lists_pending_models_longest_waiting_first(client, db):
    today = timezone.localdate()
    recent = AIModelFactory(submitted_on=today - datetime.timedelta(days=3))
    oldest = AIModelFactory(
        submitted_on=today - datetime.timedelta(days=200), status=Status.NATIONAL_REVIEW
    )
    ApprovedModelFactory()

    _response, rows = get_csv(client, "/backlog/export.csv")

    assert rows[0] == BACKLOG_HEADER
    assert [row[0] for row in rows[1:]] == [oldest.name_zh, recent.name_zh]
    assert rows[1][BACKLOG_HEADER.index("days_waiting")] == "200"
    assert rows[1][BACKLOG_HEADER.index("status")] == "national_review"


def test_batch_export_uses_the_published_layout_with_the_on_device_column(client, db):
    batch = BatchFactory(slug="2024-04")
    ApprovedModelFactory(
        batch=batch,
        seq_no=2,
        name_zh="智谱清言",
        applicant=ApplicantFactory(
            name_zh="北京智谱华章科技有限公司", jurisdiction=jurisdiction("BJ")
        ),
        filing_number="Beijing-ChatGLM-20230821",
        submitted_on=None,
        approved_on=datetime.date(2023, 8, 31),
    )
    ApprovedModelFactory(batch=batch, seq_no=1, name_zh="文心一言")
    ApprovedModelFactory(seq_no=3)

    response, rows = get_csv(client, "/batches/2024-04/export.csv")

    assert rows[0] == [*PUBLISHED_HEADER, "适用场景", "filing_type"]
    assert PUBLISHED_HEADER == ["序号", "属地", "模型名称", "备案单位", "备案号", "备案时间"]
    assert [row[2] for row in rows[1:]] == ["文心一言", "智谱清言"]
    assert rows[2] == [
        "2",
        "北京",
        "智谱清言",
        "北京智谱华章科技有限公司",
        "Beijing-ChatGLM-20230821",
        "2023-08-31",
        "",
        "filing",
    ]
    assert 'filename="batch-2024-04-' in response["Content-Disposition"]


def test_export_of_an_unknown_batch_is_not_found(client, db):
    assert client.get("/batches/no-such-batch/export.csv").status_code == 404


def _bulk_models(n):
    applicant = ApplicantFactory()
    batch = BatchFactory()
    AIModel.objects.bulk_create(
        AIModel(
            name_zh=f"大模型{i}",
            name_en=f"Model {i}",
            slug=f"model-{i}",
            applicant=applicant,
            status=Status.APPROVED,
            approved_on=datetime.date(2024, 3, 1),
            submitted_on=datetime.date(2024, 1, 1),
            filing_number=f"Beijing-Model{i}-202403010001",
            batch=batch,
            seq_no=i,
        )
        for i in range(n)
    )


def test_a_ten_thousand_row_export_streams_in_chunks(client, db):
    # The rows are written as they are read, a chunk at a time, never all held: ``make
    # bench`` measures the memory this takes.
    _bulk_models(10_000)

    response = client.get("/models/export.csv")

    assert isinstance(response, StreamingHttpResponse)
    lines = [chunk.count(b"\r\n") for chunk in response.streaming_content]
    # The header goes with the first chunk of rows.
    assert lines == [CHUNK_ROWS + 1] + [CHUNK_ROWS] * (10_000 // CHUNK_ROWS - 1)


def test_export_command_writes_the_same_bytes_as_the_urls(client, db, tmp_path):
    batch = BatchFactory(slug="2024-04")
    ApprovedModelFactory.create_batch(3, batch=batch)
    AIModelFactory.create_batch(2)
    cases = [
        (
            ["models", "status=approved", "sort=name"],
            "/models/export.csv?status=approved&sort=name",
        ),
        (["applicants"], "/applicants/export.csv"),
        (["backlog"], "/backlog/export.csv"),
        (["batch", "2024-04"], "/batches/2024-04/export.csv"),
    ]
    for args, url in cases:
        output = tmp_path / "out.csv"
        call_command("export_csv", *args, output=str(output), base_url="http://testserver/")
        assert output.read_bytes() == content(client.get(url)), url


def test_export_command_refuses_an_unknown_batch_and_a_malformed_filter(db):
    with pytest.raises(CommandError, match="No batch"):
        call_command("export_csv", "batch", "nope")
    with pytest.raises(CommandError, match="key=value"):
        call_command("export_csv", "models", "status")


def test_the_admin_action_exports_the_selected_models_with_the_same_code(client, editor):
    chosen = ApprovedModelFactory(name_zh="选中的模型")
    ApprovedModelFactory(name_zh="没选的模型")
    client.force_login(editor)

    response = client.post(
        "/admin/tracker/aimodel/",
        {"action": "export_selected", "_selected_action": [chosen.pk]},
    )

    rows = parse(content(response))
    assert rows[0] == MODEL_HEADER
    assert [row[1] for row in rows[1:]] == ["选中的模型"]
    assert rows[1][MODEL_HEADER.index("url")] == f"http://testserver/models/{chosen.slug}/"


def test_the_admin_model_list_links_to_the_import_page_for_reviewers(client, reviewer, editor):
    client.force_login(reviewer)
    assert 'href="/admin/tracker/aimodel/import/"' in client.get("/admin/tracker/aimodel/").text

    client.force_login(editor)
    assert 'href="/admin/tracker/aimodel/import/"' not in client.get("/admin/tracker/aimodel/").text


def test_the_listings_csv_link_leaves_out_what_the_listing_ignored(client, db):
    response = client.get("/en/models/", {"status": ["approved", "aproved"], "jurisdiction": "BJ"})

    assert response.context["problems"] == ["Ignored Status “aproved”: not a known value."]
    assert response.context["formats"]["csv"] == "/models/export.csv?jurisdiction=BJ"
