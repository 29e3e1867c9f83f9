import datetime
import itertools
from urllib.parse import urlencode

import pytest
from django.http import QueryDict
from django.test import RequestFactory
from django.utils import translation

from tests.factories import AIModelFactory, ApplicantFactory, BatchFactory, jurisdiction
from tracker import stamp
from tracker.models import AIModel, Status, published_order
from tracker.public import pagination
from tracker.public.filters import SORT_KEYS, AIModelFilter
from tracker.public.pagination import paginate_models

pytestmark = pytest.mark.django_db

PER_PAGE = 4
# Pages from the third on start after a known place, and most of them skip a few rows.
STRIDE = 7
SORTS = [key for sort in SORT_KEYS for key in (sort, f"-{sort}")]
APPROVED = (Status.APPROVED, Status.SUSPENDED, Status.CANCELLED, Status.REVOKED)


@pytest.fixture(autouse=True)
def short_stride(monkeypatch):
    monkeypatch.setattr(pagination, "STRIDE", STRIDE)
    # Seeking starts at the first place, not twenty strides on as in production.
    monkeypatch.setattr(pagination, "SEEK_FROM", STRIDE)


@pytest.fixture
def register():
    """37 models with every kind of tie and gap the orders meet: shared names, dates and
    batches, empty English names and filing numbers, no approval date, no batch."""
    applicants = [
        ApplicantFactory(
            name_en="Zeta Labs", name_zh="一号实验室", jurisdiction=jurisdiction("SH")
        ),
        ApplicantFactory(name_en="", name_zh="阿尔法科技", jurisdiction=jurisdiction("GD")),
        ApplicantFactory(name_en="Alpha Labs", name_zh="阿尔法实验室"),
    ]
    batches = [
        None,
        BatchFactory(announced_on=datetime.date(2024, 5, 1)),
        BatchFactory(announced_on=datetime.date(2024, 2, 1)),
    ]
    statuses = itertools.cycle(Status.values)
    for n in range(37):
        status = next(statuses)
        approved = status in APPROVED
        AIModelFactory(
            name_en="" if n % 5 == 0 else f"Model {n % 13}",
            name_zh=f"模型{n * 5 % 13}",
            applicant=applicants[n % 3],
            status=status,
            submitted_on=datetime.date(2024, 1, 1 + n % 3),
            approved_on=datetime.date(2024, 3, 1 + n % 2) if approved else None,
            filing_number=f"Beijing-Test{n % 4}-2024030{n}" if approved and n % 4 else "",
            batch=batches[n % 3] if approved else None,
        )


def page_of(params, language="en"):
    request = RequestFactory().get("/en/models/", params)
    with translation.override(language):
        page, problem = paginate_models(request, AIModelFilter(request.GET).qs, PER_PAGE)
        if page is None:
            return None, problem
        return [ai_model.pk for ai_model in page.object_list], problem


def listing(params, language="en"):
    """The ids of the listing ``params`` ask for, in its order."""
    with translation.override(language):
        filterset = AIModelFilter(QueryDict(urlencode(params, doseq=True)))
        return list(filterset.qs.values_list("pk", flat=True))


def by_offset(sort, number, language="en"):
    bottom = (number - 1) * PER_PAGE
    return listing({"sort": sort}, language)[bottom : bottom + PER_PAGE]


def test_every_page_of_every_order_holds_the_rows_an_offset_would(register):
    for sort, number in itertools.product(SORTS, range(1, 11)):
        expected = (by_offset(sort, number), "")
        assert page_of({"sort": sort, "page": number}) == expected, (sort, number)


@pytest.mark.parametrize("sort", ["name", "-name", "applicant", "-applicant"])
def test_names_sort_in_the_readers_language_on_deep_pages_too(register, sort):
    for number in (3, 5, 8, 10):
        expected = by_offset(sort, number, "zh-hans")
        assert page_of({"sort": sort, "page": number}, "zh-hans") == (expected, "")
    assert listing({"sort": sort}, "zh-hans") != listing({"sort": sort})


def test_a_page_asked_for_again_reads_the_places_once(register, django_assert_num_queries):
    fifth, eighth = by_offset("-approved_on", 5), by_offset("-approved_on", 8)
    with stamp.known(stamp.current()):
        # The count, the walk to every seventh row's place, the rest of the same approval
        # day after the place and the page's rows.
        with django_assert_num_queries(4):
            assert page_of({"page": 5}) == (fifth, "")
        # The places are known: the walk is not taken again, for this page or another, nor
        # for a parameter the listing does not depend on.
        with django_assert_num_queries(3):
            assert page_of({"page": 5}) == (fifth, "")
        with django_assert_num_queries(3):
            assert page_of({"page": 8}) == (eighth, "")
        with django_assert_num_queries(3):
            assert page_of({"page": 5, "utm_source": "feed"}) == (fifth, "")


def test_a_page_that_runs_past_its_places_value_reads_on_to_the_next_values(
    register, django_assert_num_queries
):
    fourth = by_offset("-approved_on", 4)
    with stamp.known(stamp.current()):
        page_of({"page": 3})
        # After the place: the rest of its day, the days after it, the undated rows.
        with django_assert_num_queries(5):
            assert page_of({"page": 4}) == (fourth, "")


def test_the_first_pages_are_read_by_offset_without_places(register, django_assert_num_queries):
    second = by_offset("-approved_on", 2)
    # The count, the page's ids, its rows.
    with stamp.known(stamp.current()), django_assert_num_queries(3):
        assert page_of({"page": 2}) == (second, "")


def test_a_write_moves_every_page_to_the_new_order(register):
    assert page_of({"sort": "name", "page": 6}) == (by_offset("name", 6), "")
    AIModelFactory(name_en="Aardvark", applicant=ApplicantFactory())
    AIModel.objects.filter(name_en="Model 2").update(name_en="Model 99")

    for number in range(3, 11):
        assert page_of({"sort": "name", "page": number}) == (by_offset("name", number), "")


def test_a_deep_page_of_a_filtered_listing_holds_its_own_rows(register):
    params = {"status": [Status.APPROVED, Status.REVOKED, Status.SUBMITTED], "sort": "-batch"}
    ids = listing(params)
    assert len(ids) == 11
    assert page_of({**params, "page": 3}) == (ids[8:], "")
    # Asked for without the filter, the same page number holds other rows.
    assert page_of({"sort": "-batch", "page": 3}) == (by_offset("-batch", 3), "")
    assert by_offset("-batch", 3) != ids[8:]


def test_a_listing_in_another_order_pages_by_offset(register, django_assert_num_queries):
    request = RequestFactory().get("/en/models/", {"page": 3})
    models = AIModel.objects.order_by("-submitted_on", "name_en", "pk")
    # The count, the page's ids by offset, its rows.
    with stamp.known(stamp.current()), django_assert_num_queries(3):
        page, _problem = paginate_models(request, models, PER_PAGE)
    assert [m.pk for m in page.object_list] == list(models.values_list("pk", flat=True)[8:12])


def test_an_applicants_listing_pages_by_its_places(register):
    applicant = AIModel.objects.values_list("applicant", flat=True).first()
    models = AIModel.objects.filter(applicant=applicant).order_by(*published_order())
    request = RequestFactory().get("/en/applicants/zeta-labs/", {"page": 3})
    page, _problem = paginate_models(request, models, PER_PAGE)
    assert [m.pk for m in page.object_list] == list(models.values_list("pk", flat=True)[8:12])


@pytest.mark.parametrize("number", ["0", "-1", "abc", "1.5", "11", "99999999"])
def test_a_page_that_does_not_exist_is_refused_as_before(register, number):
    assert page_of({"page": number}) == (
        None,
        f"There is no page “{number}” in this list: it has 10 pages. "
        "Start again from the first page.",
    )


def test_a_page_past_the_end_of_a_capped_count_is_refused(register, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_CAP", 20)

    assert page_of({"page": 10}) == (by_offset("-approved_on", 10), "")
    for number in ("11", "12", "40"):
        assert page_of({"page": number}) == (
            None,
            f"There is no page “{number}” in this list: it has fewer rows. "
            "Start again from the first page.",
        )


def test_the_listing_page_shows_a_deep_page_with_its_numbers(client, register):
    AIModelFactory.create_batch(14, submitted_on=datetime.date(2023, 12, 1))
    response = client.get("/en/models/", {"sort": "-submitted_on", "page": 2})

    page = response.context["page"]
    assert [ai_model.pk for ai_model in page.object_list] == listing({"sort": "-submitted_on"})[50:]
    assert (page.start_index(), page.end_index()) == (51, 51)
    assert "showing 51–51" in response.text


def test_pages_before_the_seeking_starts_are_read_with_an_offset(register, monkeypatch):
    monkeypatch.setattr(pagination, "SEEK_FROM", 3 * STRIDE)
    walked = []
    monkeypatch.setattr(pagination, "walk", lambda *args: walked.append(args) or [])

    # Page 3 starts at row 8, past the first place (7) but before the seeking (21).
    ids, _problem = page_of({"page": 3})

    assert walked == []
    assert ids == listing({})[8:12]
