"""Hostile input: random and crafted query strings never make a public URL fail."""

import io
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings
from django.core.management import call_command
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tracker.models import AIModel, Applicant, Batch, Source, StatusChange

PUBLIC_URLS = [
    "/",
    "/en/models/",
    "/models/export.csv",
    "/en/applicants/",
    "/applicants/export.csv",
    "/en/batches/",
    "/en/backlog/",
    "/backlog/export.csv",
    "/feeds/approvals/",
    "/en/reports/",
    "/reports/status-as-of.csv",
    "/reports/time-to-approval.csv",
    "/reports/backlog-ageing.csv",
    "/reports/batches.csv",
]
DETAIL_URLS = [
    "/en/models/wen-xin-yi-yan/",
    "/en/applicants/baidu/",
    "/en/batches/2023-08-31-cac-batch/",
    "/batches/2023-08-31-cac-batch/export.csv",
]
PARAMETERS = [
    "q",
    "status",
    "filing_type",
    "scope",
    "sector",
    "jurisdiction",
    "applicant",
    "batch",
    "submitted_after",
    "submitted_before",
    "approved_after",
    "approved_before",
    "sort",
    "page",
    "date",
    "language",
]
CRAFTED = [
    "' OR 1=1 --",
    '"; DROP TABLE tracker_aimodel; --',
    "{{ settings.SECRET_KEY }}",
    "{% debug %}",
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "../../etc/passwd",
    "%00",
    "\x00",
    "\r\n\t",
    "‮evil",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "北京",
    "-approved_on",
    "__class__",
    "9" * 40,
    "-1",
    "0",
    "2024-02-30",
    "2024-13-01",
    "x" * 10_000,
]

values = st.one_of(
    st.sampled_from(CRAFTED),
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.dates().map(str),
)
query_strings = st.lists(
    st.tuples(st.one_of(st.sampled_from(PARAMETERS), st.text(max_size=20)), values),
    max_size=8,
).map(urlencode)


@pytest.fixture(scope="module")
def demo_data(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("load_register", verbosity=0, stdout=io.StringIO())
    yield
    with django_db_blocker.unblock():
        # Delete what load_register made, keeping the migrations' reference data.
        for model in (Source, StatusChange, AIModel, Applicant, Batch):
            model.objects.all().delete()


def assert_answers_without_failing(client, url):
    response = client.get(url)
    assert response.status_code < 500, url
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert settings.SECRET_KEY.encode() not in body


@pytest.mark.django_db
@pytest.mark.parametrize("url", PUBLIC_URLS + DETAIL_URLS)
@hypothesis_settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=query_strings)
def test_no_query_string_makes_a_public_url_fail(demo_data, client, url, query):
    assert_answers_without_failing(client, f"{url}?{query}")


@pytest.mark.django_db
@pytest.mark.parametrize("url", PUBLIC_URLS)
@pytest.mark.parametrize("value", CRAFTED)
def test_every_crafted_value_in_every_parameter_is_answered(demo_data, client, url, value):
    query = urlencode([(name, value) for name in PARAMETERS] + [("status", value)] * 3)
    assert_answers_without_failing(client, f"{url}?{query}")


@pytest.mark.django_db
@hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(slug=st.text(max_size=120), prefix=st.sampled_from(["models", "applicants", "batches"]))
def test_odd_paths_are_a_404_not_a_failure(demo_data, client, slug, prefix):
    response = client.get(f"/{prefix}/{quote(slug, safe='')}/")
    assert response.status_code < 500
