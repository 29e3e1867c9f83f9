import datetime

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.text import slugify
from pypinyin import lazy_pinyin

from tests.factories import (
    AIModelFactory,
    ApplicantFactory,
    ApprovedModelFactory,
    BatchFactory,
    jurisdiction,
    remove_history,
)
from tracker.models import AIModel, Applicant, Batch, FilingType, Status, StatusChange
from tracker.text import slug_base
from tracker.workflow import TransitionError

pytestmark = pytest.mark.django_db


def refused(queryset, **changes):
    """True when the database itself refuses to write ``changes`` to every row of ``queryset``."""
    try:
        with transaction.atomic():
            queryset.update(**changes)
    except IntegrityError:
        return True
    return False


def one(instance):
    return type(instance).objects.filter(pk=instance.pk)


@pytest.mark.parametrize("status", ["bogus", "", "APPROVED", "pending"])
def test_the_database_refuses_an_unknown_status(status):
    assert refused(one(AIModelFactory()), status=status)


@pytest.mark.parametrize("status", [Status.APPROVED, Status.SUSPENDED, Status.CANCELLED, "revoked"])
def test_the_database_refuses_an_approved_status_without_an_approval_date(status):
    assert refused(one(AIModelFactory()), status=status, approved_on=None)
    assert refused(one(ApprovedModelFactory(status=status)), approved_on=None)


@pytest.mark.parametrize(
    "status", [Status.SUBMITTED, Status.NATIONAL_REVIEW, Status.REJECTED, Status.WITHDRAWN]
)
def test_an_undecided_or_refused_model_needs_no_approval_date(status):
    assert not refused(one(AIModelFactory()), status=status, approved_on=None)


def test_the_database_refuses_a_duplicate_filing_number():
    first = ApprovedModelFactory(filing_number="Beijing-Same-202403010001")
    second = ApprovedModelFactory()

    assert refused(one(second), filing_number=first.filing_number)
    with pytest.raises(TransitionError, match="The database refused this record"):
        ApprovedModelFactory(filing_number=first.filing_number)


def test_many_models_may_have_no_filing_number_yet():
    AIModelFactory(filing_number="")
    AIModelFactory(filing_number="")

    assert AIModel.objects.filter(filing_number="").count() == 2


@pytest.mark.parametrize("field", ["name_zh", "name_en"])
def test_the_database_refuses_two_models_of_one_applicant_with_the_same_name(field):
    first = AIModelFactory()
    second = AIModelFactory(applicant=first.applicant)

    assert refused(one(second), **{field: getattr(first, field)})


@pytest.mark.parametrize("field", ["name_zh", "name_en"])
def test_two_applicants_may_use_the_same_model_name(field):
    first = AIModelFactory()
    second = AIModelFactory()

    assert not refused(one(second), **{field: getattr(first, field)})


def test_one_applicant_may_have_several_models_whose_names_were_not_reported():
    applicant = ApplicantFactory()
    AIModelFactory(applicant=applicant, name_zh="", name_en="")
    AIModelFactory(applicant=applicant, name_zh="", name_en="")

    assert applicant.models.count() == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [("filing_type", "bogus"), ("filing_type", ""), ("scope", "bogus"), ("scope", "")],
)
def test_the_database_refuses_an_unknown_filing_type_or_scope(field, value):
    assert refused(one(AIModelFactory()), **{field: value})


def test_the_database_refuses_an_approval_before_the_submission():
    ai_model = ApprovedModelFactory(submitted_on=datetime.date(2024, 1, 10))

    assert refused(one(ai_model), approved_on=datetime.date(2024, 1, 9))
    assert not refused(one(ai_model), approved_on=datetime.date(2024, 1, 10))


def test_an_approval_without_a_known_submission_date_is_accepted():
    assert not refused(one(ApprovedModelFactory()), submitted_on=None)


def test_the_database_refuses_an_applicant_without_any_name():
    applicant = ApplicantFactory()

    assert refused(one(applicant), name_zh="", name_en="")
    assert not refused(one(applicant), name_zh="")
    with pytest.raises(IntegrityError), transaction.atomic():
        Applicant.objects.bulk_create([Applicant(slug="nameless", name_zh="", name_en="")])


@pytest.mark.parametrize("field", ["name_zh", "name_en"])
def test_the_database_refuses_two_applicants_with_the_same_name(field):
    first = ApplicantFactory()

    assert refused(one(ApplicantFactory()), **{field: getattr(first, field)})


def test_many_applicants_may_lack_an_english_or_a_chinese_name():
    ApplicantFactory(name_en="")
    ApplicantFactory(name_en="")
    ApplicantFactory(name_zh="")
    ApplicantFactory(name_zh="")

    assert Applicant.objects.count() == 4


def test_the_database_refuses_an_unknown_applicant_kind():
    assert refused(one(ApplicantFactory()), kind="bogus")


def test_the_database_refuses_a_batch_without_a_title():
    batch = BatchFactory()

    assert refused(one(batch), title_zh="", title_en="")
    assert not refused(one(batch), title_en="")


@pytest.mark.parametrize(
    ("field", "value"), [("to_status", "bogus"), ("to_status", ""), ("from_status", "bogus")]
)
def test_the_database_refuses_a_history_step_with_an_unknown_status(field, value):
    step = AIModelFactory().history.get()

    assert refused(one(step), **{field: value})


def test_deleting_an_applicant_with_models_is_refused():
    ai_model = AIModelFactory()

    with pytest.raises(ProtectedError):
        ai_model.applicant.delete()

    assert Applicant.objects.filter(pk=ai_model.applicant.pk).exists()


def test_deleting_a_model_with_history_is_refused():
    ai_model = AIModelFactory()

    with pytest.raises(ProtectedError):
        ai_model.delete()

    assert StatusChange.objects.filter(model=ai_model).count() == 1


def test_deleting_a_batch_with_models_is_refused():
    ai_model = ApprovedModelFactory()

    with pytest.raises(ProtectedError):
        ai_model.batch.delete()

    assert Batch.objects.filter(pk=ai_model.batch_id).exists()


def test_deleting_a_model_that_registrations_call_is_refused():
    upstream = remove_history(ApprovedModelFactory())
    AIModelFactory(filing_type=FilingType.REGISTRATION, upstream=upstream)

    with pytest.raises(ProtectedError):
        upstream.delete()


def test_deleting_a_jurisdiction_with_applicants_is_refused():
    ApplicantFactory(jurisdiction=jurisdiction("BJ"))

    with pytest.raises(ProtectedError):
        jurisdiction("BJ").delete()


def test_the_migrations_match_the_models():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.parametrize(
    ("name_zh", "slug"),
    [
        ("文心一言", "wen-xin-yi-yan"),
        ("通义千问", "tong-yi-qian-wen"),
        ("百度 文心", "bai-du-wen-xin"),
        ("ＸＧＰＴ大模型", "xgpt-da-mo-xing"),
    ],
)
def test_a_model_named_only_in_chinese_gets_a_readable_pinyin_slug(name_zh, slug):
    assert AIModelFactory(name_zh=name_zh, name_en="").slug == slug


def test_an_applicant_named_only_in_chinese_gets_a_pinyin_slug():
    applicant = ApplicantFactory(name_zh="北京智谱华章科技有限公司", name_en="")

    assert applicant.slug == "bei-jing-zhi-pu-hua-zhang-ke-ji-you-xian-gong-si"


def test_a_batch_titled_only_in_chinese_gets_a_pinyin_slug():
    assert BatchFactory(title_zh="第一批", title_en="").slug == "di-yi-pi"


def test_the_english_name_is_preferred_for_the_slug():
    assert AIModelFactory(name_zh="文心一言", name_en="ERNIE Bot").slug == "ernie-bot"


@pytest.mark.parametrize("name", ["", "🤖", "!!!", "—", "\u200b"])
def test_a_slug_is_never_empty(name):
    applicant = ApplicantFactory(name_zh="", name_en=f"—{name}")
    ai_model = AIModelFactory(applicant=applicant, name_zh=name, name_en="")
    batch = BatchFactory(title_zh=f"—{name}", title_en="")

    assert applicant.slug
    assert ai_model.slug.startswith(applicant.slug)
    assert batch.slug


def test_colliding_slugs_get_a_numeric_suffix():
    slugs = [AIModelFactory(name_zh="文心一言", name_en="").slug for _ in range(3)]
    applicants = [ApplicantFactory(name_zh=name, name_en="").slug for name in ("百度", "柏度")]

    assert slugs == ["wen-xin-yi-yan", "wen-xin-yi-yan-2", "wen-xin-yi-yan-3"]
    assert applicants == ["bai-du", "bai-du-2"]


def test_a_long_name_gives_a_slug_that_fits_its_field():
    ai_model = AIModelFactory(name_zh="", name_en="Model " * 33)
    applicant = ApplicantFactory(name_zh="", name_en="Company " * 24)

    assert 0 < len(ai_model.slug) <= AIModel._meta.get_field("slug").max_length
    assert 0 < len(applicant.slug) <= Applicant._meta.get_field("slug").max_length
    assert not ai_model.slug.endswith("-")


def test_saving_again_keeps_the_slug():
    ai_model = AIModelFactory(name_en="Kept")

    ai_model.description = "Changed."
    ai_model.save()

    assert AIModel.objects.get(pk=ai_model.pk).slug == "kept"


@pytest.mark.parametrize(
    "name",
    ["重庆银行股份有限公司", "求索对话DeepSeek Chat", "面壁露卡 LUCA", "智慧助手（小艺）", "x-y_z"],
)
def test_pinyin_slugs_match_pypinyin_phrase_by_phrase(name):
    assert slug_base(name) == slugify(" ".join(lazy_pinyin(name)))


def test_the_database_refuses_an_applicant_that_is_its_own_parent():
    applicant = ApplicantFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Applicant.objects.filter(pk=applicant.pk).update(parent=applicant)


def test_a_cycle_of_parent_groups_is_refused_in_the_admin(client, editor):
    top = ApplicantFactory(name_en="Top Group")
    middle = ApplicantFactory(name_en="Middle Group", parent=top)
    bottom = ApplicantFactory(name_en="Bottom Co", parent=middle)
    client.force_login(editor)
    url = f"/admin/tracker/applicant/{top.pk}/change/"
    data = {
        "name_zh": top.name_zh,
        "name_en": top.name_en,
        "slug": top.slug,
        "jurisdiction": top.jurisdiction_id,
        "kind": top.kind,
        "website": "",
    }

    cycle = client.post(url, {**data, "parent": bottom.pk})
    itself = client.post(url, {**data, "parent": top.pk})

    assert cycle.context["adminform"].form.errors["parent"] == [
        "Bottom Co belongs to this group already: that would be a cycle."
    ]
    assert itself.context["adminform"].form.errors["parent"] == [
        "Top Group belongs to this group already: that would be a cycle."
    ]
    top.refresh_from_db()
    assert top.parent is None
    assert client.post(url, {**data, "parent": ""}).status_code == 302


def test_a_parent_outside_the_group_is_accepted():
    group = ApplicantFactory()
    other = ApplicantFactory()
    member = ApplicantFactory(parent=group)

    member.parent = other
    member.full_clean()
    member.save()

    assert list(other.subsidiaries.all()) == [member]
