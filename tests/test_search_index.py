"""The search indexes of each database are used (tracker.search, migration 0002).

The one test module that reads SQL text and query plans: everywhere else, searches are
tested by the rows they find.
"""

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

# The listings' data sets, used through usefixtures.
from tests.test_public_listings import _q, many, register, small_cap  # noqa: F401
from tracker.public import pagination
from tracker.public.filters import AIModelFilter, filter_models

pytestmark = pytest.mark.django_db

IN_INDEX_ORDER = '+"tracker_aimodel"."id" IN'


def search_sql(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response, [query["sql"] for query in queries]


@pytest.mark.sqlite
@pytest.mark.usefixtures("register")
def test_sqlite_looks_a_two_character_word_up_in_the_index_vocabulary(client):
    response, sql = search_sql(client, "/en/models/?q=文心")

    assert [m.name_en for m in response.context["page"].object_list] == ["ERNIE Bot"]
    assert any("tracker_aimodel_search_terms" in text for text in sql)


@pytest.mark.postgresql
@pytest.mark.usefixtures("register")
def test_postgresql_looks_a_two_character_word_up_in_the_bigram_index(client):
    response, sql = search_sql(client, "/en/models/?q=文心")

    assert [m.name_en for m in response.context["page"].object_list] == ["ERNIE Bot"]
    assert any("tracker_bigrams" in text for text in sql)


@pytest.mark.postgresql
@pytest.mark.usefixtures("register")
@pytest.mark.parametrize(
    "query, index",
    [
        ("文心", "aimodel_bigrams_idx"),
        ("ai", "aimodel_bigrams_idx"),
        ("wenxin", "aimodel_search_text_trgm_idx"),
        ("wenxin", "aimodel_filing_number_trgm_idx"),
    ],
)
def test_postgresql_searches_match_the_expressions_of_their_indexes(query, index):
    # The tables are tiny, so the planner is told to avoid reading them whole; unordered,
    # as a listing's count is, so that no index of an order is walked instead.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    assert index in filter_models(_q(query))[0].order_by().values("pk").explain()


@pytest.mark.sqlite
@pytest.mark.usefixtures("many", "small_cap")
def test_sqlite_reads_a_search_with_many_matches_along_the_listing_order(client):
    _response, sql = search_sql(client, "/en/models/?q=Model")
    assert sum(IN_INDEX_ORDER in text for text in sql) == 1

    # Only the default order has an index to read along.
    _response, sql = search_sql(client, "/en/models/?q=Model&sort=name")
    assert sum(IN_INDEX_ORDER in text for text in sql) == 0


@pytest.mark.sqlite
@pytest.mark.usefixtures("many")
@pytest.mark.parametrize("share, in_order", [(1, True), (1_000, False)])
def test_sqlite_reads_the_early_pages_of_a_long_result_in_index_order(
    client, monkeypatch, share, in_order
):
    # A page within the first 1/share of the result is early: with 1, every page is.
    monkeypatch.setattr(pagination, "EARLY_PAGE_SHARE", share)

    _response, sql = search_sql(client, "/en/models/?q=Model&page=2")

    assert any(IN_INDEX_ORDER in text for text in sql) is in_order


@pytest.mark.sqlite
@pytest.mark.usefixtures("many")
@pytest.mark.parametrize(
    "query, from_index",
    [
        ("Model", True),
        ("Test Model", True),
        ("mo", True),
        ("mo de", True),
        ("el mo", True),
        ("model 1", False),
        ("no-such-model", True),
        ("m", False),
    ],
)
def test_sqlite_counts_a_search_alone_in_the_index(query, from_index):
    filterset = AIModelFilter(QueryDict(f"q={query}"))
    expected = filterset.qs.count()

    counted = filterset.count_in_search_index(1000)

    # A word of one character is matched with LIKE: the index cannot count it.
    assert counted == (expected if from_index else None)
    assert filterset.count_in_search_index(3) == (min(expected, 3) if from_index else None)


@pytest.mark.postgresql
@pytest.mark.usefixtures("many")
def test_postgresql_counts_a_search_in_the_table():
    filterset = AIModelFilter(QueryDict("q=Model"))

    assert filterset.count_in_search_index(1000) is None
