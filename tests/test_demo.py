import datetime

import pytest
from django.core.management import call_command

from tracker.models import AIModel, Applicant, Batch, Status, StatusChange

pytestmark = pytest.mark.django_db


def counts():
    return (
        Batch.objects.count(),
        Applicant.objects.count(),
        AIModel.objects.count(),
        StatusChange.objects.count(),
    )


def test_load_demo_loads_the_real_rows_with_their_history(capsys):
    call_command("load_demo")

    # 13 announced batches; 23 rows of the national list plus 9 more models of the
    # January 2024 news report (01.AI's model is on both).
    assert counts() == (13, 31, 32, 32)
    assert "created 13 batches, 31 applicants, 32 models" in capsys.readouterr().out
    assert not AIModel.objects.exclude(status=Status.APPROVED).exists()
    assert StatusChange.objects.filter(from_status="", to_status=Status.APPROVED).count() == 32


def test_load_demo_twice_changes_nothing():
    call_command("load_demo")
    before = counts()
    snapshot = list(AIModel.objects.order_by("pk").values())

    call_command("load_demo")

    assert counts() == before
    assert list(AIModel.objects.order_by("pk").values()) == snapshot


def test_load_demo_keeps_published_facts_and_invents_none():
    call_command("load_demo")

    deepseek = AIModel.objects.get(filing_number="Beijing-DeepseekChat-202404280016")
    assert deepseek.name_zh == "求索对话DeepSeek Chat"
    assert deepseek.applicant.name_zh == "北京深度求索人工智能基础技术研究有限公司"
    assert deepseek.applicant.jurisdiction.code == "BJ"
    assert deepseek.approved_on == datetime.date(2024, 5, 13)
    assert deepseek.seq_no == 152
    assert deepseek.batch.slug == "2024-08-cac-batch"

    # Baichuan's filing number was never confirmed: it stays empty.
    assert AIModel.objects.get(name_zh="百应").filing_number == ""
    # The filing number's token is used as a hint when the list leaves the region out.
    tongyi = AIModel.objects.get(filing_number="ZheJiang-TongYiQianWen-20230901")
    assert tongyi.applicant.jurisdiction.code == "ZJ"
    # Central state-owned firms belong to 国资委.
    jiutian = AIModel.objects.get(filing_number="ZhongYangQiYe-JiuTian-20240123")
    assert jiutian.applicant.jurisdiction.code == "SASAC"
    assert jiutian.applicant.kind == "state_owned"


def test_load_demo_records_the_founding_january_2024_batch():
    call_command("load_demo")

    batch = Batch.objects.get(slug="2024-01-28-cac-batch")
    assert batch.reported_new == 14
    assert batch.reported_total is None  # announced as "over 40", not a number
    names = {m.name_en or m.name_zh for m in batch.models.all()}
    assert {"XGPT", "Pinshang", "Moxiaoxian", "零一万物大模型"} <= names
    assert batch.models.count() == 10

    xiaomi = AIModel.objects.get(applicant__name_en="Xiaomi")
    assert (xiaomi.name_zh, xiaomi.name_en) == ("", "")
    assert str(xiaomi) == "Xiaomi model (name not reported)"
    assert xiaomi.submitted_on is None
    assert xiaomi.days_in_review is None

    zero_one = AIModel.objects.get(name_zh="零一万物大模型")
    assert zero_one.applicant.name_zh == "北京零一万物科技有限公司"
    assert (zero_one.sector, zero_one.approved_on) == ("general", datetime.date(2024, 1, 17))


def test_first_batch_holds_the_eight_same_day_filings():
    call_command("load_demo")

    first = Batch.objects.get(slug="2023-08-31-cac-batch")
    assert first.reported_new == first.models.count() == 8
    assert list(first.models.order_by("seq_no").values_list("seq_no", flat=True)) == list(
        range(1, 9)
    )
