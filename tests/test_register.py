"""The shipped published register: every CAC list, loaded as ``make run`` loads it.

The register is loaded once for the module; each test reads it inside its own transaction,
so what a test writes is rolled back.
"""

import csv
import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from tracker.importing import lists as importer
from tracker.importing.register import CAC_DIR, batch_slug
from tracker.models import (
    AIModel,
    Applicant,
    Batch,
    FilingType,
    Sequence,
    Source,
    Status,
    StatusChange,
)

pytestmark = pytest.mark.django_db

LISTS = CAC_DIR / "lists"


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    """The output of ``load_register``, with the register it loaded in the database."""
    out = io.StringIO()
    with django_db_blocker.unblock():
        call_command("load_register", stdout=out)
    yield out.getvalue()
    with django_db_blocker.unblock():
        for model in (Source, StatusChange, AIModel, Applicant, Batch):
            model.objects.all().delete()


def published_lists():
    with open(CAC_DIR / "batches.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def rows_of(name):
    with open(LISTS / name, encoding="utf-8") as handle:
        return list(csv.reader(handle))[1:]


def listed(sequence, seq_no):
    return AIModel.objects.select_related("applicant__jurisdiction").get(
        sequence=sequence, seq_no=seq_no
    )


def table_sequence(name):
    if "registrations" in name:
        return Sequence.REGISTRATION
    return Sequence.ON_DEVICE if "on-device" in name else Sequence.FILING


def counts():
    return tuple(
        model.objects.count() for model in (Batch, Applicant, AIModel, StatusChange, Source)
    )


# Counts -----------------------------------------------------------------------------------


def test_every_published_row_is_one_approved_model(loaded):
    assert AIModel.objects.count() == 1842
    assert AIModel.objects.filter(sequence=Sequence.FILING).count() == 1105
    assert AIModel.objects.filter(sequence=Sequence.ON_DEVICE).count() == 7
    assert AIModel.objects.filter(sequence=Sequence.REGISTRATION).count() == 730
    assert set(AIModel.objects.values_list("status", flat=True)) == {Status.APPROVED}
    assert StatusChange.objects.filter(from_status="", to_status=Status.APPROVED).count() == 1842
    assert Batch.objects.count() == 14


@pytest.mark.parametrize("entry", published_lists(), ids=lambda entry: entry["list"])
def test_each_list_holds_exactly_the_rows_of_its_tables(loaded, entry):
    batch = Batch.objects.get(slug=batch_slug(entry["list"]))
    for name in entry["files"].split():
        published = sorted(int(row[0]) for row in rows_of(name))
        entered = batch.models.filter(sequence=table_sequence(name))
        assert sorted(entered.values_list("seq_no", flat=True)) == published, name
    assert batch.models.count() == sum(len(rows_of(name)) for name in entry["files"].split())


@pytest.mark.parametrize("entry", published_lists(), ids=lambda entry: entry["list"])
def test_each_batch_carries_its_notice_date_and_announced_totals(loaded, entry):
    batch = Batch.objects.get(slug=batch_slug(entry["list"]))

    assert batch.source_url == entry["notice_url"]
    assert batch.announced_label == entry["announced_on"]
    assert batch.announced_precision == entry["announced_on_known_to"]
    assert batch.reported_total == (int(entry["announced_filings_total"] or 0) or None)
    assert batch.reported_registrations_total == (
        int(entry["announced_registrations_total"] or 0) or None
    )
    if entry["title_zh"]:
        assert batch.title_zh == entry["title_zh"]
    else:
        assert batch.title_zh == "端侧生成式人工智能服务已备案信息（2026年7月）"


def test_cumulative_entered_counts_meet_every_announced_total_but_registration_263(loaded):
    filings = registrations = 0
    for entry in published_lists():
        batch = Batch.objects.get(slug=batch_slug(entry["list"]))
        filings += batch.models.filter(filing_type=FilingType.FILING).count()
        registrations += batch.models.filter(filing_type=FilingType.REGISTRATION).count()
        if entry["announced_filings_total"]:
            assert filings == int(entry["announced_filings_total"]), entry["list"]
        if entry["announced_registrations_total"]:
            # Registration No. 263 is in no published list: one short from 2025-08 on.
            expected = int(entry["announced_registrations_total"])
            assert registrations == (expected - 1 if expected >= 263 else expected)
    assert (filings, registrations) == (1112, 730)


def test_the_reports_page_explains_every_difference(client, loaded):
    response = client.get("/en/reports/batches/")

    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text))
    assert text.count("No. 263 of the") == 7
    assert (
        "Registrations: No. 263 of the 731 numbers announced so far is in none of the "
        "published lists, so the register cannot hold it." in text
    )
    assert "None" not in text
    assert "The filings total includes 7 on-device filings" in text
    assert text.count("No cumulative total is known for this notice.") == 4


def test_the_overview_and_the_models_page_say_how_much_of_the_record_is_held(client, loaded):
    expected = (
        "The register holds 1,842 of the 1,843 filings and registrations the CAC has "
        "announced, up to its latest list, published 2026-09-14."
    )
    for url in ("/en/", "/en/models/"):
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", client.get(url).text))
        assert expected in text, url


def test_an_empty_search_says_what_the_register_covers_and_never_implies_a_refusal(client, loaded):
    text = re.sub(r"\s+", " ", client.get("/en/models/?q=Qwen").text)

    assert "No model matches these filters." in text
    assert "A name that is not found here is not in a published list under that name." in text
    assert "That does not mean it was refused" in text


def test_an_empty_result_of_other_filters_makes_no_claim_about_the_name(client, loaded):
    text = client.get("/en/models/?q=Apple&status=rejected").text

    assert "No model matches these filters." in text
    assert "not in a published list" not in text


# Loading again ----------------------------------------------------------------------------


def test_loading_again_creates_and_changes_nothing(loaded):
    before = counts()
    steps = list(StatusChange.objects.order_by("pk").values_list("pk", "note"))
    out = io.StringIO()

    call_command("load_register", stdout=out)

    assert counts() == before == (14, 1581, 1842, 1842, 1)
    assert list(StatusChange.objects.order_by("pk").values_list("pk", "note")) == steps
    assert (
        "1842 rows in 26 tables, 0 models, 0 applicants and 0 batches created, 0 sources "
        "added, 0 facts from other sources applied." in out.getvalue()
    )


def test_the_first_load_reports_what_it_did(loaded):
    assert (
        "1842 rows in 26 tables, 1842 models, 1581 applicants and 14 batches created, "
        "1 sources added" in loaded
    )
    assert "2025-10_registrations.csv: Row 24: The number Jiangsu-SiWeiXiangLiangZhiSuanYun- " in (
        loaded
    )
    assert "56 rows have a note in their date cell" in loaded
    assert loaded.count("in each other's columns") == 6


def _re_extracted(name):
    """The list as another extraction would give it: the other header generation, line-wrap
    spaces elsewhere, full-width brackets as ASCII, provinces without their suffix."""
    rows = rows_of(name)
    header = ["序号", "属地", "模型名称", "备案单位", "备案号", "备案时间"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for seq_no, place, model, applicant, number, day in rows:
        applicant = applicant.replace(" ", "").replace("（", "(").replace("）", ")")
        applicant = applicant[:2] + " " + applicant[2:]
        model = model.replace(" ", "")
        number = number.replace(" ", "").replace("-", " - ", 1)
        place = re.sub("(省|市)$", "", place.replace(" ", ""))
        writer.writerow([seq_no, place, model, applicant, number, day])
    return out.getvalue().encode()


@pytest.mark.parametrize("name", ["2024-04_filings.csv", "2025-12_registrations.csv"])
def test_a_second_extraction_of_a_list_matches_the_same_records(loaded, name):
    batch = Batch.objects.get(slug=batch_slug(name[:7]))
    before = counts()

    result = importer.import_list(_re_extracted(name), batch=batch, unswap=True)

    assert result.problem_lines() == []
    assert (result.created_models, result.created_applicants) == (0, 0)
    assert len(result.unchanged) == len(rows_of(name))
    assert counts() == before


@pytest.mark.parametrize("slug", ["cac-2025-10", "cac-2026-07-on-device"])
def test_a_batch_exported_here_imports_back_unchanged(client, loaded, slug):
    batch = Batch.objects.get(slug=slug)
    exported = b"".join(client.get(f"/batches/{slug}/export.csv").streaming_content)
    before = counts()

    result = importer.import_list(exported, batch=batch)

    assert result.problem_lines() == []
    assert len(result.unchanged) == batch.models.count()
    assert counts() == before


# The seed's January 2024 round ------------------------------------------------------------


def test_the_news_reports_fourteen_models_are_rows_66_to_79_each_once(loaded):
    source = Source.objects.get()
    named = source.ai_models.order_by("seq_no")

    assert [m.seq_no for m in named] == list(range(66, 80))
    assert {m.approved_on.isoformat() for m in named} == {"2024-01-17"}
    assert {m.batch.slug for m in named} == {"cac-2024-04"}
    assert source.url.startswith("https://mpost.io/china-approves-14-llms")
    # Each is one record: the news names no model of its own beside the listed ones.
    for ai_model in named:
        same = ai_model.applicant.models.filter(
            sequence=Sequence.FILING, name_key=ai_model.name_key
        )
        assert list(same) == [ai_model]
    # Nothing entered from the news stands apart from the published rows.
    assert not AIModel.objects.filter(batch__isnull=True).exists()
    assert AIModel.objects.count() == 1842


def test_the_news_facts_are_on_the_listed_records(loaded):
    threatbook = listed(Sequence.FILING, 76)
    moxiaoxian = listed(Sequence.FILING, 70)
    pinshang = listed(Sequence.FILING, 69)
    xiaomi = listed(Sequence.FILING, 68)

    assert (threatbook.name_zh, threatbook.name_en, threatbook.sector) == (
        "微步情报智脑",
        "XGPT",
        "cybersecurity",
    )
    assert threatbook.applicant.name_en == "ThreatBook"
    assert (moxiaoxian.name_zh, moxiaoxian.name_en, moxiaoxian.alias_list) == (
        "摹小仙",
        "Moxiaoxian",
        ["墨晓仙"],
    )
    assert (pinshang.name_en, pinshang.alias_list) == ("Pinshang", ["品商"])
    assert xiaomi.applicant.name_en == "Xiaomi"
    assert xiaomi.description == (
        "Reported in the news on 2024-01-29: an LLM approved for commercial use."
    )


@pytest.mark.parametrize(
    "query, seq_no",
    [("XGPT", 76), ("Pinshang", 69), ("墨晓仙", 70), ("Resume polishing tool", 73)],
)
def test_the_names_the_news_used_find_the_merged_record(client, loaded, query, seq_no):
    ai_model = listed(Sequence.FILING, seq_no)

    response = client.get("/en/models/", {"q": query})

    assert ai_model.get_absolute_url() in response.text


def test_the_batch_page_groups_rows_by_approval_date_and_cites_the_news(client, loaded):
    text = re.sub(r"\s+", " ", client.get("/en/batches/cac-2024-04/").text)

    text = re.sub(r"<[^>]+>", "", text)
    assert "National filings · approved 2024-01-17 · 14 models" in text
    assert "National filings · approved 2023-08-31 · 8 models" in text
    assert text.count("Reported in the news:") == 1
    assert "China Approves 14 LLMs and Enterprise Applications" in text


def test_a_round_split_across_pages_gives_its_whole_size_and_says_it_continues(client, loaded):
    first = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", client.get("/en/batches/cac-2024-04/").text))
    second = re.sub(
        r"\s+", " ", re.sub(r"<[^>]+>", "", client.get("/en/batches/cac-2024-04/?page=2").text)
    )

    # The 12 filings approved on 2024-03-11 are rows 100–111 of the list's 117: five end
    # the first page of 100, seven begin the second.
    assert "National filings · approved 2024-03-11 · 12 models" in first
    assert "continued from the previous page" not in first
    assert (
        "National filings · approved 2024-03-11 · 12 models (continued from the previous page)"
        in second
    )
    assert second.count("continued from the previous page") == 1


def test_a_number_published_with_a_space_inside_is_found_typed_whole(client, loaded):
    spaced = AIModel.objects.filter(filing_number__contains=" ").order_by("pk").first()
    whole = spaced.filing_number.replace(" ", "")

    response = client.get("/en/models/", {"q": whole})

    assert spaced.get_absolute_url() in response.text


def test_a_month_only_announcement_is_shown_to_the_month(client, loaded):
    text = re.sub(r"\s+", " ", client.get("/en/batches/cac-2024-08/").text)

    assert "Announced on 2024-08 (the day is not known)" in re.sub(r"<[^>]+>", " ", text).replace(
        "  ", " "
    )


# Each flaw of the extraction, on its real row ---------------------------------------------


def test_line_wrap_spaces_between_chinese_characters_and_beside_hyphens_are_removed(loaded):
    ernie = listed(Sequence.FILING, 1)
    spark = listed(Sequence.FILING, 9)
    wps = listed(Sequence.FILING, 18)

    assert ernie.applicant.name_zh == "北京百度网讯科技有限公司"
    assert spark.filing_number == "Anhui-XingHuoRenZhiDaMoXing-20230823"
    # White space between Latin words is real.
    assert wps.name_en == "WPS AI"


def test_both_filing_header_generations_and_the_registration_header_are_read(loaded):
    assert listed(Sequence.FILING, 253).name_zh == "讯飞星火教育大模型"  # 模型名称, 备案号
    assert listed(Sequence.FILING, 303).name_zh == "融建智能助手"  # 大模型名称, 备案编号
    registration = listed(Sequence.REGISTRATION, 1)
    assert (registration.name_zh, registration.filing_type) == ("变影", FilingType.REGISTRATION)
    assert registration.filing_number == "Beijing-BianYing-20240428S0001"


def test_the_on_device_scenario_is_stored_shown_and_exported(client, loaded):
    apple = listed(Sequence.ON_DEVICE, 1)

    assert (apple.name_zh, apple.on_device_scenario) == ("Apple智能", "苹果手机")
    assert "苹果手机" in client.get(apple.get_absolute_url()).text
    rows = list(
        csv.reader(
            io.StringIO(
                b"".join(
                    client.get("/models/export.csv", {"q": "Apple智能"}).streaming_content
                ).decode("utf-8-sig")
            )
        )
    )
    assert rows[1][rows[0].index("on_device_scenario")] == "苹果手机"
    assert rows[1][rows[0].index("seq_no")] == "1"


def test_a_note_in_the_date_cell_keeps_the_date_and_goes_to_the_history(client, loaded):
    late = listed(Sequence.REGISTRATION, 407)

    assert late.approved_on.isoformat() == "2025-01-07"
    (step,) = late.history.all()
    assert step.note == (
        "Published in Generative AI services filed and registered (2025-12 list). The list "
        "dates it “2025/1/7” with the note “补登” (entered late)."
    )
    assert "(entered late)" in client.get(late.get_absolute_url()).text


def test_a_truncated_number_is_kept_as_published_and_flagged(client, loaded):
    cut = listed(Sequence.REGISTRATION, 286)

    assert cut.filing_number == "Jiangsu-SiWeiXiangLiangZhiSuanYun-"
    assert "looks cut off in the published list" in client.get(cut.get_absolute_url()).text
    out = io.StringIO()
    call_command("check_integrity", stdout=out)
    assert f"Model {cut.pk} ({cut.slug}): The number Jiangsu-SiWeiXiangLiangZhiSuanYun- " in (
        out.getvalue()
    )


def test_a_mistyped_region_in_a_number_is_flagged(client, loaded):
    typo = AIModel.objects.get(filing_number__startswith="Shinghai-")

    assert "“Shinghai”" in client.get(typo.get_absolute_url()).text


def test_registration_263_is_missing_and_no_other_number_is(loaded):
    numbers = set(
        AIModel.objects.filter(sequence=Sequence.REGISTRATION).values_list("seq_no", flat=True)
    )
    assert set(range(1, 732)) - numbers == {263}


def test_swapped_rows_are_read_the_other_way_round_and_say_so(loaded):
    sensetime = listed(Sequence.FILING, 340)

    assert sensetime.name_zh == "商汤AI代码生成模型"
    assert sensetime.applicant.name_zh == "深圳市商汤科技有限公司"
    assert "in each other's columns" in sensetime.history.get().note
    assert listed(Sequence.FILING, 345).applicant.name_zh == "广东智媒云图科技股份有限公司"


def test_swapped_rows_are_refused_by_an_import_that_is_not_told_to_read_them_back(loaded):
    batch = Batch.objects.get(slug="cac-2025-03")
    data = (LISTS / "2025-03_filings.csv").read_bytes()

    result = importer.import_list(data, batch=batch, dry_run=True)

    assert [row.number for row in result.bad_rows] == [39, 40, 41, 42, 43, 44]
    assert result.problem_lines()[0] == (
        "Row 39: the model and applicant columns look swapped: the model name "
        "“深圳市商汤科技有限公司” looks like an organisation."
    )


def test_ascii_and_full_width_brackets_name_one_applicant(loaded):
    didi_filing = listed(Sequence.FILING, 110)
    didi_registration = listed(Sequence.REGISTRATION, 508)

    assert didi_filing.applicant == didi_registration.applicant
    assert didi_filing.applicant.name_zh == "滴滴出行(北京)网络平台技术有限公司"


def test_province_suffixes_and_autonomous_regions_map_to_one_jurisdiction(loaded):
    assert listed(Sequence.FILING, 1).applicant.jurisdiction.code == "BJ"  # 北京市
    assert listed(Sequence.REGISTRATION, 302).applicant.jurisdiction.code == "GX"  # 广西壮族自治区


def test_a_company_that_files_a_model_and_registers_an_app_of_one_name_has_both(loaded):
    filed = listed(Sequence.FILING, 68)
    registered = listed(Sequence.REGISTRATION, 76)

    assert filed.name_zh == registered.name_zh == "小爱同学AI助手"
    assert filed.applicant == registered.applicant
    assert filed.pk != registered.pk


# Search -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, name",
    [
        ("pangu", "华为云盘古NLP大模型"),
        ("ChatGLM", "智谱清言(ChatGLM)"),
        ("AndesGPT", "AndesGPT大模型"),
        ("Anhui-XingHuoRenZhiDaMoXing-20230823", "星火认知大模型"),
        ("Anhui-XingHuoRenZhiDaMoXing- 20230823", "星火认知大模型"),
        ("文心一言", "文心一言"),
        ("豆包", "豆包手机助手"),
        ("Apple", "Apple智能"),
    ],
)
def test_search_finds_what_people_type(client, loaded, query, name):
    ai_model = AIModel.objects.get(name_zh=name)

    response = client.get("/en/models/", {"q": query})

    assert ai_model.get_absolute_url() in response.text


def test_the_shipped_lists_are_the_projects_own_copy():
    # Users have the project alone: the lists, their README and sources are inside it.
    import tracker

    assert CAC_DIR.is_relative_to(Path(tracker.__file__).parent)
    assert sorted(path.name for path in LISTS.glob("*.csv")) == sorted(
        name for entry in published_lists() for name in entry["files"].split()
    )
    assert {path.name for path in (CAC_DIR / "sources").iterdir()} == {
        "genai_filing.7218398d.json",
        "genai_filing.ab6f89cb.json",
    }
    assert "registration 263 is missing" in (CAC_DIR / "README.md").read_text(encoding="utf-8")


def test_loading_again_keeps_what_staff_corrected_and_says_so(loaded):
    corrected = listed(Sequence.FILING, 1)
    corrected.name_zh = "文心一言(更正)"
    corrected.save()
    out = io.StringIO()

    call_command("load_register", stdout=out)

    corrected.refresh_from_db()
    assert corrected.name_zh == "文心一言(更正)"
    assert AIModel.objects.count() == 1842
    assert (
        "1 rows of lists loaded before differ from the register, which keeps its corrected "
        "records:" in out.getvalue()
    )
    assert (
        "2024-04_filings.csv: Row 2: the filing number Beijing-WenXinYiYan-20230821 already "
        "belongs to another model, “文心一言(更正)”." in out.getvalue()
    )
