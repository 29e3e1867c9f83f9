import datetime

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    AIModelFactory,
    ApplicantFactory,
    ApprovedModelFactory,
    BatchFactory,
    jurisdiction,
)
from tracker import workflow
from tracker.models import AIModel, Applicant, FilingType, Scope, Status, StatusChange
from tracker.public import pagination
from tracker.public.filters import AIModelFilter, filter_models
from tracker.text import pinyin_key

pytestmark = pytest.mark.django_db

SECRET = "Staff only: the applicant's contact is unreliable"


def names(queryset):
    return [m.name_en for m in queryset]


def params(query):
    return QueryDict(query)


def _q(query):
    data = QueryDict(mutable=True)
    data["q"] = query
    return data


@pytest.fixture
def register():
    """A small register with one record for each thing a filter can tell apart."""
    baidu = ApplicantFactory(
        name_zh="北京百度网讯科技有限公司", name_en="Baidu", jurisdiction=jurisdiction("BJ")
    )
    minimax = ApplicantFactory(
        name_zh="上海稀宇科技有限公司", name_en="MiniMax", jurisdiction=jurisdiction("SH")
    )
    first = BatchFactory(title_en="First batch", announced_on=datetime.date(2023, 8, 31))
    second = BatchFactory(title_en="Second batch", announced_on=datetime.date(2024, 4, 2))
    ernie = ApprovedModelFactory(
        name_zh="文心一言",
        name_en="ERNIE Bot",
        applicant=baidu,
        filing_number="Beijing-WenXinYiYan-20230821",
        approved_on=datetime.date(2023, 8, 31),
        submitted_on=datetime.date(2023, 5, 1),
        batch=first,
        seq_no=2,
        sector="search",
        internal_notes=SECRET,
    )
    abab = ApprovedModelFactory(
        name_zh="ABAB大模型",
        name_en="ABAB",
        applicant=minimax,
        filing_number="Shanghai-ABAB-20230821",
        approved_on=datetime.date(2023, 8, 31),
        submitted_on=None,
        batch=first,
        seq_no=1,
        sector="entertainment",
    )
    app = ApprovedModelFactory(
        name_zh="百度问答助手",
        name_en="Baidu Answers",
        applicant=baidu,
        filing_type=FilingType.REGISTRATION,
        scope=Scope.INDUSTRY,
        upstream=ernie,
        filing_number="Beijing-REG-2024-0001",
        approved_on=datetime.date(2024, 3, 20),
        submitted_on=datetime.date(2024, 1, 5),
        batch=second,
        seq_no=1,
    )
    pending = AIModelFactory(
        name_zh="海螺",
        name_en="Hailuo",
        applicant=minimax,
        status=Status.NATIONAL_REVIEW,
        submitted_on=datetime.date(2024, 2, 1),
        internal_notes=SECRET,
    )
    rejected = AIModelFactory(
        name_zh="", name_en="Rejected One", applicant=minimax, status=Status.REJECTED
    )
    StatusChange.objects.create(
        model=pending,
        from_status=Status.SUBMITTED,
        to_status=Status.NATIONAL_REVIEW,
        happened_on=datetime.date(2024, 3, 1),
        note="Passed the provincial review.",
    )
    return {
        "baidu": baidu,
        "minimax": minimax,
        "first": first,
        "second": second,
        "ernie": ernie,
        "abab": abab,
        "app": app,
        "pending": pending,
        "rejected": rejected,
    }


# Filters, one by one and combined


def test_no_filter_lists_everything_newest_approval_first_and_undecided_last(register):
    qs, problems = filter_models(params(""))
    assert problems == []
    assert names(qs)[:3] == ["Baidu Answers", "ERNIE Bot", "ABAB"]
    assert set(names(qs)[3:]) == {"Hailuo", "Rejected One"}


def test_status_filter_keeps_only_that_status(register):
    qs, _ = filter_models(params("status=national_review"))
    assert names(qs) == ["Hailuo"]


def test_several_values_of_one_filter_combine_as_or(register):
    qs, _ = filter_models(params("status=national_review&status=rejected"))
    assert set(names(qs)) == {"Hailuo", "Rejected One"}


def test_different_filters_combine_as_and(register):
    qs, _ = filter_models(params("jurisdiction=BJ&filing_type=registration"))
    assert names(qs) == ["Baidu Answers"]


def test_filing_type_and_scope_filters(register):
    assert names(filter_models(params("filing_type=registration"))[0]) == ["Baidu Answers"]
    assert names(filter_models(params("scope=industry"))[0]) == ["Baidu Answers"]


def test_sector_filter_matches_any_of_several_sectors(register):
    qs, _ = filter_models(params("sector=search&sector=entertainment"))
    assert set(names(qs)) == {"ERNIE Bot", "ABAB"}


def test_jurisdiction_filter_uses_the_code(register):
    qs, _ = filter_models(params("jurisdiction=SH"))
    assert set(names(qs)) == {"ABAB", "Hailuo", "Rejected One"}


def test_applicant_and_batch_filters_use_slugs(register):
    qs, _ = filter_models(params(f"applicant={register['baidu'].slug}"))
    assert set(names(qs)) == {"ERNIE Bot", "Baidu Answers"}
    qs, _ = filter_models(params(f"batch={register['first'].slug}&batch={register['second'].slug}"))
    assert set(names(qs)) == {"ERNIE Bot", "ABAB", "Baidu Answers"}


def test_date_filters_are_inclusive(register):
    qs, _ = filter_models(params("approved_after=2023-08-31&approved_before=2023-08-31"))
    assert set(names(qs)) == {"ERNIE Bot", "ABAB"}
    qs, _ = filter_models(params("submitted_after=2024-01-05"))
    assert set(names(qs)) == {"Baidu Answers", "Hailuo", "Rejected One"}
    qs, _ = filter_models(params("submitted_before=2023-12-31"))
    assert names(qs) == ["ERNIE Bot"]


# Search


@pytest.mark.parametrize(
    "query, expected",
    [
        ("文心", {"ERNIE Bot"}),
        ("ernie", {"ERNIE Bot"}),
        ("稀宇", {"ABAB", "Hailuo", "Rejected One"}),
        ("minimax", {"ABAB", "Hailuo", "Rejected One"}),
        ("WenXinYiYan", {"ERNIE Bot"}),
        ("baidu answers", {"Baidu Answers"}),
        ("ＡＢＡＢ", {"ABAB"}),
    ],
)
def test_search_matches_chinese_and_english_names_and_filing_numbers(register, query, expected):
    qs, problems = filter_models(_q(query))
    assert set(names(qs)) == expected
    assert problems == []


@pytest.mark.parametrize(
    "query", ["稀宇", "百度网讯", "MINImax", "wenxin", "ABAB大", "文 bot", "b", "问 ai"]
)
def test_search_finds_the_same_rows_with_and_without_the_trigram_index(register, query):
    # Words of two characters or more go through the index; single characters through LIKE.
    expected = _matching(query)
    assert {m.pk for m in filter_models(_q(query))[0]} == expected
    assert expected


def _matching(query):
    return {
        m.pk
        for m in AIModel.objects.select_related("applicant")
        if all(
            any(w.casefold() in text.casefold() for text in _searchable(m)) for w in query.split()
        )
    }


def test_two_character_words_are_found_wherever_they_stand(register):
    # On SQLite through the index's vocabulary: a word at the very end of a name or of a
    # filing number starts no trigram but the one ending in the index's separator.
    words = {
        text[i : i + 2]
        for m in AIModel.objects.select_related("applicant")
        for text in _searchable(m)
        for i in range(len(text) - 1)
        if " " not in text[i : i + 2]
    }
    assert len(words) > 50
    for word in sorted(words):
        for query in (word, word.swapcase(), f"{word} {word[::-1]}"):
            assert {m.pk for m in filter_models(_q(query))[0]} == _matching(query), query


@pytest.mark.parametrize(
    "name, word",
    [("Λόγος", "ος"), ("Λόγος", "Λό"), ("İzmir", "İz"), ("Straße", "ße")],
)
def test_two_character_words_with_letters_folded_otherwise_by_the_index_are_found(
    register, name, word
):
    # The index folds ς to σ, and not İ, where str.lower() does the opposite: such words
    # are matched as typed, as before there was an index.
    AIModelFactory(name_en=name)
    assert name in {m.name_en for m in filter_models(_q(word))[0]}


@pytest.mark.parametrize("query", ["文心", "ai", "ernie", "文 ai"])
def test_a_search_used_inside_another_query_keeps_its_rows(register, query):
    # Inside another query the models' table goes by another name.
    found = list(filter_models(_q(query))[0])
    filterset = AIModelFilter(_q(query))
    for matches in (filterset.qs, filterset.qs_for_many_matches() or filterset.qs):
        applicants = Applicant.objects.filter(pk__in=matches.order_by().values("applicant"))
        assert set(applicants) == {m.applicant for m in found}
    assert found


def test_a_two_character_search_follows_renames_and_new_filing_numbers(register, reviewer):
    register["minimax"].name_en = "Hailuo QX"
    register["minimax"].save()
    assert set(names(filter_models(_q("qx"))[0])) == {"ABAB", "Hailuo", "Rejected One"}
    workflow.transition(
        register["pending"], Status.APPROVED, by=reviewer, filing_number="Shanghai-HaiLuo-2024Z9"
    )
    assert names(filter_models(_q("z9"))[0]) == ["Hailuo"]
    register["minimax"].name_en = "MiniMax"
    register["minimax"].save()
    assert names(filter_models(_q("qx"))[0]) == []


def _searchable(ai_model):
    applicant = ai_model.applicant
    return (
        ai_model.name_zh,
        ai_model.name_en,
        pinyin_key(ai_model.name_zh),
        *ai_model.alias_list,
        applicant.name_zh,
        applicant.name_en,
        pinyin_key(applicant.name_zh),
        ai_model.filing_number,
    )


def test_search_follows_a_renamed_applicant(register):
    register["minimax"].name_en = "Hailuo Labs"
    register["minimax"].save()
    assert set(names(filter_models(_q("hailuo labs"))[0])) == {"ABAB", "Hailuo", "Rejected One"}
    assert names(filter_models(_q("minimax"))[0]) == []


def test_an_applicant_edit_that_keeps_its_names_rewrites_none_of_its_models(register):
    applicant = register["minimax"]
    applicant.website = "https://example.org/"

    with CaptureQueriesContext(connection) as queries:
        applicant.save()

    assert not [q for q in queries if 'UPDATE "tracker_aimodel"' in q["sql"]]


def test_search_follows_a_filing_number_given_by_the_workflow(register, reviewer):
    workflow.transition(
        register["pending"], Status.APPROVED, by=reviewer, filing_number="Shanghai-HaiLuo-2024"
    )
    assert names(filter_models(_q("hailuo-2024"))[0]) == ["Hailuo"]


def test_a_search_term_with_quotes_or_wildcards_is_plain_text(register):
    for query in ('"ERNIE', "ERN*", "100%", "a_b", "NEAR(x y)", "'"):
        qs, problems = filter_models(_q(query))
        assert problems == []
        assert names(qs) == []


def test_search_combines_with_filters(register):
    data = _q("百度")
    data["filing_type"] = "filing"
    assert names(filter_models(data)[0]) == ["ERNIE Bot"]


# Sorting


def test_sort_ascending_and_descending_with_unknown_values_last(register):
    qs, _ = filter_models(params("sort=submitted_on"))
    assert names(qs)[:4] == ["ERNIE Bot", "Baidu Answers", "Rejected One", "Hailuo"]
    assert names(qs)[-1] == "ABAB"
    qs, _ = filter_models(params("sort=-submitted_on"))
    assert names(qs)[:4] == ["Hailuo", "Rejected One", "Baidu Answers", "ERNIE Bot"]
    assert names(qs)[-1] == "ABAB"


def test_sort_by_name_and_status(register):
    qs, _ = filter_models(params("sort=name&status=approved"))
    assert names(qs) == ["ABAB", "Baidu Answers", "ERNIE Bot"]
    qs, _ = filter_models(params("sort=-status"))
    assert names(qs)[0] == "Rejected One"


def test_sort_by_days_in_review(register):
    qs, _ = filter_models(params("sort=-days_in_review&status=approved"))
    assert names(qs) == ["ERNIE Bot", "Baidu Answers", "ABAB"]


def test_unknown_sort_is_ignored_and_reported(register):
    qs, problems = filter_models(params("sort=internal_notes"))
    assert names(qs)[0] == "Baidu Answers"
    assert problems == ["Ignored sort “internal_notes”: not a column that can be sorted."]


# Bad values are dropped and reported, never an error


def test_a_parameter_with_an_unknown_value_is_left_out_and_reported(register):
    qs, problems = filter_models(
        params("status=approved&status=foo&jurisdiction=XX&jurisdiction=SH&scope=general")
    )
    # The form refuses status and jurisdiction whole; the valid scope still filters.
    assert names(qs) == names(AIModel.objects.filter(scope="general"))
    assert qs.count() == 4
    assert problems == [
        "Ignored Status “foo”: not a known value.",
        "Ignored Jurisdiction “XX”: no such entry in the register.",
    ]


def test_a_filter_whose_every_value_is_unknown_does_not_filter(register):
    qs, problems = filter_models(params("applicant=nobody&batch=nothing"))
    assert qs.count() == 5
    assert len(problems) == 2


def test_malformed_dates_are_ignored_and_reported(register):
    qs, problems = filter_models(params("approved_after=2024-13-45&submitted_before=yesterday"))
    assert qs.count() == 5
    assert problems == [
        "Ignored Submitted until “yesterday”: not a date in the form YYYY-MM-DD.",
        "Ignored Approved from “2024-13-45”: not a date in the form YYYY-MM-DD.",
    ]


def test_a_huge_search_is_shortened_and_reported(register):
    qs, problems = filter_models(_q("文" * 10_000))
    assert list(qs) == []
    assert problems == ["The search was shortened to its first 200 characters."]


def test_nul_bytes_and_control_characters_are_stripped_from_values(register):
    qs, problems = filter_models(_q("ERN\x00IE\u202e"))
    assert names(qs) == ["ERNIE Bot"]
    assert problems == []


@pytest.mark.parametrize(
    "query, status",
    [
        ("status=foo", 200),
        ("approved_after=not-a-date", 200),
        ("approved_before=99999-01-01", 200),
        ("sort=-", 200),
        ("sort=--name", 200),
        ("sort=name;drop table", 200),
        # A page that does not exist is a 404 that says so.
        ("page=0", 404),
        ("page=999999", 404),
        ("page=abc", 404),
        ("page=-1", 404),
        ("page=1e9", 404),
        ("q=%00", 200),
        ("q=%F0%9F%A4%96%E2%80%AE%EF%BF%BF", 200),
        ("q=%ED%A0%80", 200),
        ("jurisdiction=%00", 200),
        ("status=", 200),
        ("q=" + "x" * 10_000, 200),
    ],
)
def test_bad_input_never_causes_a_server_error(client, register, query, status):
    response = client.get("/en/models/?" + query)
    assert response.status_code == status


def test_the_listing_says_what_it_ignored(client, register):
    response = client.get("/en/models/?status=foo&sort=bogus")
    assert response.status_code == 200
    assert "Ignored Status “foo”: not a known value." in response.text
    assert "Ignored sort “bogus”" in response.text


@pytest.mark.parametrize("page", ["0", "999999", "abc"])
def test_a_page_that_does_not_exist_is_a_404_with_an_explanation(client, register, page):
    response = client.get(f"/en/models/?status=approved&page={page}")
    assert response.status_code == 404
    assert "There is no page" in response.text
    assert 'href="?status=approved"' in response.text


# The listing page


def test_the_listing_shows_the_count_the_active_filters_and_an_export_link(client, register):
    response = client.get("/en/models/?status=approved&jurisdiction=BJ&page=1")
    assert response.status_code == 200
    assert "2 models" in response.text
    assert 'href="?jurisdiction=BJ"' in response.text  # removes the status filter
    assert 'href="?status=approved"' in response.text  # removes the jurisdiction filter
    assert 'href="/models/export.csv?status=approved&amp;jurisdiction=BJ"' in response.text


def test_sort_headers_keep_the_filters_and_reverse_on_the_second_click(client, register):
    response = client.get("/en/models/?status=approved&sort=name")
    assert 'href="?status=approved&amp;sort=-name"' in response.text
    assert 'aria-sort="ascending"' in response.text
    assert 'href="?status=approved&amp;sort=filing_number"' in response.text


def test_pagination_is_stable_and_covers_every_row_once(client):
    applicant = ApplicantFactory()
    for _ in range(55):
        ApprovedModelFactory(applicant=applicant, approved_on=datetime.date(2024, 3, 1))
    first = client.get("/en/models/")
    second = client.get("/en/models/?page=2")
    rows = list(first.context["page"].object_list) + list(second.context["page"].object_list)
    assert len({m.pk for m in rows}) == 55
    assert 'href="?page=2"' in first.text


def test_a_model_without_a_name_shows_as_its_applicants_model(client, register):
    AIModelFactory(name_zh="", name_en="", applicant=register["baidu"])
    response = client.get("/en/models/?applicant=" + register["baidu"].slug)
    assert "Baidu model (name not reported)" in response.text


# Detail pages


def test_model_page_shows_facts_upstream_registrations_and_public_timeline(client, register):
    response = client.get(register["ernie"].get_absolute_url())
    assert response.status_code == 200
    text = response.text
    assert "Beijing-WenXinYiYan-20230821" in text
    assert "文心一言" in text
    assert register["first"].get_absolute_url() in text
    assert register["app"].get_absolute_url() in text  # a registration calling this model
    response = client.get(register["app"].get_absolute_url())
    assert register["ernie"].get_absolute_url() in response.text  # its upstream model


def test_model_timeline_shows_dates_steps_and_public_notes(client, register):
    response = client.get(register["pending"].get_absolute_url())
    assert "2024-03-01" in response.text
    assert "Passed the provincial review." in response.text
    assert "National review" in response.text


def test_unknown_slugs_are_404(client, register):
    for path in ("/en/models/nope/", "/en/applicants/nope/", "/en/batches/nope/"):
        assert client.get(path).status_code == 404


def test_applicant_page_lists_its_models_and_counts(client, register):
    response = client.get(register["minimax"].get_absolute_url())
    assert response.status_code == 200
    assert {m.name_en for m in response.context["models"]} == {"ABAB", "Hailuo", "Rejected One"}
    assert ("National review", 1) in response.context["status_counts"]


def test_applicant_page_lists_many_models_a_page_at_a_time(client):
    applicant = ApplicantFactory()
    ApprovedModelFactory.create_batch(55, applicant=applicant)
    AIModelFactory(applicant=applicant, status=Status.NATIONAL_REVIEW)
    first = client.get(applicant.get_absolute_url())
    second = client.get(applicant.get_absolute_url() + "?page=2")
    assert len(first.context["models"]) == 50
    assert len({m.pk for m in [*first.context["models"], *second.context["models"]]}) == 56
    assert ("Approved", 55) in first.context["status_counts"]
    assert 'href="?page=2"' in first.text
    missing = client.get(applicant.get_absolute_url() + "?page=9")
    assert missing.status_code == 404
    assert "There is no page" in missing.text


def test_the_sector_choices_list_each_sector_once_in_order(client, register):
    AIModelFactory(sector="search")
    response = client.get("/en/models/")
    assert [option.value for option in response.context["facets"]["sector"].options] == [
        "entertainment",
        "search",
    ]


def test_applicant_list_counts_models_by_status_and_searches(client, register):
    response = client.get("/en/applicants/")
    rows = {a.name_en: a for a in response.context["page"].object_list}
    assert rows["MiniMax"].n_models == 3
    assert rows["MiniMax"].n_approved == 1
    assert rows["MiniMax"].n_pending == 1
    assert rows["MiniMax"].n_other == 1
    response = client.get("/en/applicants/?q=百度")
    assert [a.name_en for a in response.context["page"].object_list] == ["Baidu"]


def test_batch_pages_set_entered_against_announced_and_keep_published_order(client, register):
    batch = register["first"]
    batch.reported_new = 5
    batch.source_url = "https://www.cac.gov.cn/example.htm"
    batch.save()
    response = client.get("/en/batches/")
    listed = {b.slug: b for b in response.context["page"].object_list}
    assert listed[batch.slug].n_entered_filings == 2
    response = client.get(batch.get_absolute_url())
    assert [m.name_en for m in response.context["page"].object_list] == ["ABAB", "ERNIE Bot"]
    assert "https://www.cac.gov.cn/example.htm" in response.text
    assert ">5<" in response.text


# Nothing staff-only reaches a public page


def test_internal_notes_never_reach_a_public_page(client, register):
    pages = [
        "/en/models/",
        "/en/models/?q=ERNIE",
        register["ernie"].get_absolute_url(),
        register["pending"].get_absolute_url(),
        "/en/applicants/",
        register["baidu"].get_absolute_url(),
        register["minimax"].get_absolute_url(),
        "/en/batches/",
        register["first"].get_absolute_url(),
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert SECRET not in response.text, path
        assert "recorded_by" not in response.text, path


# Query counts, fixed whatever the number of rows


def make_rows(n):
    batch = BatchFactory()
    registered = None
    for i in range(n):
        applicant = ApplicantFactory()
        registered = ApprovedModelFactory(
            applicant=applicant, batch=batch, seq_no=i + 1, upstream=registered
        )
        AIModelFactory(applicant=applicant)
    return batch, applicant, registered


@pytest.mark.parametrize("n", [2, 12])
def test_models_listing_query_count_does_not_grow_with_rows(client, django_assert_num_queries, n):
    make_rows(n)
    # The register's stamp and entered counts (cached after) for the coverage line; the
    # batches for it and the form; the six facets' counts (cached after, for these
    # filters); the jurisdictions for the form; the count; the page's ids; their rows.
    with django_assert_num_queries(13):
        assert client.get("/en/models/").status_code == 200
    # One more to look up the batch named in the filter, one fewer for the cached counts.
    with django_assert_num_queries(13):
        client.get("/en/models/?status=approved&batch=x&q=Test&sort=-days_in_review")


@pytest.mark.parametrize("n", [2, 12])
def test_detail_pages_query_counts_do_not_grow_with_rows(client, django_assert_num_queries, n):
    batch, applicant, registered = make_rows(n)
    # The register stamp; the model with its applicant, jurisdiction, batch and upstream;
    # the regions numbers name; its sources; its registrations; history; its corrections
    # (none, so no linked records to name).
    with django_assert_num_queries(7):
        client.get(registered.upstream.get_absolute_url())
    # The register stamp; the applicant and parent; its model count, page ids and rows;
    # counts by status; its subsidiaries.
    with django_assert_num_queries(7):
        client.get(applicant.get_absolute_url())
    # The batch; the register's stamp; entered counts (cached after); the page count; the
    # page's rows; the sizes of its approval rounds; the sources that named them.
    with django_assert_num_queries(7):
        client.get(batch.get_absolute_url())
    with django_assert_num_queries(6):
        client.get(batch.get_absolute_url())


@pytest.mark.parametrize("n", [2, 12])
def test_applicant_and_batch_listing_query_counts_do_not_grow(client, django_assert_num_queries, n):
    make_rows(n)
    # The register stamp; the count; the page's rows; their counts by status.
    with django_assert_num_queries(4):
        client.get("/en/applicants/")
    with django_assert_num_queries(4):
        client.get("/en/applicants/?q=Test")
    # The count; the page's batches; the register's stamp; entered counts (cached after).
    with django_assert_num_queries(4):
        client.get("/en/batches/")
    with django_assert_num_queries(3):
        client.get("/en/batches/")


# Capped counts: a broad listing of a large register counts only so far


@pytest.fixture
def small_cap(monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_CAP", 3)


@pytest.fixture
def many(db):
    applicant = ApplicantFactory()
    for _ in range(105):
        AIModelFactory(applicant=applicant)
    return applicant


def test_a_capped_count_says_more_than_the_cap_without_a_last_page(
    client, many, small_cap, django_assert_num_queries
):
    with django_assert_num_queries(13):
        response = client.get("/en/models/")

    assert "More than 3 models" in response.text
    assert "showing 1–50" in response.text
    assert 'href="?page=2" rel="next"' in response.text
    assert "Last" not in response.text
    assert "Page 1 of" not in response.text


def test_pages_past_a_capped_count_are_served_until_the_rows_run_out(client, many, small_cap):
    seen = set()
    for number in (1, 2, 3):
        response = client.get(f"/en/models/?page={number}")
        assert response.status_code == 200
        seen |= {m.pk for m in response.context["page"].object_list}
    assert len(seen) == 105
    assert "showing 101–105" in response.text
    assert 'rel="next"' not in response.text
    assert 'href="?page=2" rel="prev"' in response.text


@pytest.mark.parametrize("page", ["4", "0", "-1", "abc", "1" + "0" * 30])
def test_a_page_past_the_rows_of_a_capped_list_is_a_404_with_an_explanation(
    client, many, small_cap, page
):
    response = client.get(f"/en/models/?page={page}")
    assert response.status_code == 404
    assert "There is no page" in response.text


def test_the_capped_count_speaks_chinese(client, many, small_cap):
    response = client.get("/zh-hans/models/")
    assert "超过 3 个模型" in response.text
    assert "第 1 页" in response.text


def test_a_count_under_the_cap_is_exact(client, many, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_CAP", 200)
    response = client.get("/en/models/?page=3")
    assert "105 models" in response.text
    assert "Page 3 of 3" in response.text


def test_the_applicant_list_caps_its_count_too(client, small_cap):
    for _ in range(5):
        ApplicantFactory()
    response = client.get("/en/applicants/")
    assert "More than 3 applicants" in response.text
    assert len(response.context["page"].object_list) == 5


def test_the_backlog_count_is_exact_past_the_cap(client, many, small_cap):
    response = client.get("/en/backlog/")
    assert "105 submissions" in response.text
    assert "Page 1 of 3" in response.text


def test_the_applicant_page_pages_past_a_capped_count(client, many, small_cap):
    response = client.get(f"{many.get_absolute_url()}?page=3")
    assert response.status_code == 200
    assert len(response.context["models"]) == 5


def test_the_export_is_never_capped(client, many, small_cap):
    response = client.get("/models/export.csv")
    lines = b"".join(response.streaming_content).decode().strip().splitlines()
    assert len(lines) == 1 + 105


def page_ids(client, url):
    return [m.pk for m in client.get(url).context["page"].object_list]


@pytest.mark.parametrize("url", ["/en/models/?q=Model", "/en/models/?q=Test+Model&page=3"])
def test_a_search_with_many_matches_lists_the_same_rows_as_one_with_few(
    client, many, monkeypatch, url
):
    monkeypatch.setattr(pagination, "COUNT_CAP", 200)
    exact = page_ids(client, url)
    monkeypatch.setattr(pagination, "COUNT_CAP", 3)
    assert page_ids(client, url) == exact
    assert exact


def test_a_search_with_many_matches_costs_the_same_queries(
    client, many, small_cap, django_assert_num_queries
):
    with django_assert_num_queries(13):
        response = client.get("/en/models/?q=Model")
    assert len(response.context["page"].object_list) == 50
    # The coverage line's entered counts and the facets' counts for this search (another
    # sort counts the same) are cached now.
    with django_assert_num_queries(6):
        client.get("/en/models/?q=Model&sort=name")


@pytest.mark.parametrize(
    "query", ["Model", "Test Model", "mo", "mo de", "el mo", "model 1", "no-such-model", "m"]
)
def test_a_search_alone_counts_every_match(client, many, query):
    expected = AIModelFilter(QueryDict(f"q={query}")).qs.count()

    response = client.get(f"/en/models/?q={query}")

    assert response.context["page"].paginator.count == expected


def test_a_search_with_other_filters_is_counted_in_the_table(many):
    filterset = AIModelFilter(QueryDict("q=Model&status=submitted"))
    assert filterset.count_in_search_index(1000) is None
    assert filterset.qs.count() == 105


@pytest.mark.parametrize("page", [1, 2, 3])
def test_early_pages_of_a_long_result_list_the_same_rows_read_in_index_order(
    client, many, monkeypatch, page
):
    url = f"/en/models/?q=Model&page={page}"
    monkeypatch.setattr(pagination, "EARLY_PAGE_SHARE", 1_000)
    sorted_rows = page_ids(client, url)
    monkeypatch.setattr(pagination, "EARLY_PAGE_SHARE", 1)
    in_order = page_ids(client, url)
    assert in_order == sorted_rows
    assert len(in_order) == (5 if page == 3 else 50)


@pytest.mark.parametrize(
    "sort, problems",
    [
        # An empty column is no column: ",name" sorts by name.
        (",name", []),
        (",", ["Ignored sort “,”: not a column that can be sorted."]),
        ("name,status", ["Ignored sort “name,status”: not a column that can be sorted."]),
        ("-,", ["Ignored sort “-”: not a column that can be sorted."]),
    ],
)
def test_a_sort_is_one_column(client, register, sort, problems):
    response = client.get("/en/models/", {"sort": sort})
    export = client.get("/models/export.csv", {"sort": sort})

    assert response.status_code == 200
    assert response.context["problems"] == problems
    # The export refuses what the page drops.
    assert export.status_code == (400 if problems else 200)
