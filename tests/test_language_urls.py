"""The language in the address: each page under /en/ and /zh-hans/, the addresses from before
the prefixes redirecting for good, alternates naming each language, and data addresses (the
exports, feeds, API and files) without a language."""

import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from tests.factories import ApplicantFactory, ApprovedModelFactory, BatchFactory
from tracker.analysis.exports import url_maker
from tracker.languages import alternates, neutral_path

pytestmark = pytest.mark.django_db


@pytest.fixture
def ernie(settings):
    settings.SITE_URL = "https://example.org/"
    return ApprovedModelFactory(
        name_zh="文心一言",
        name_en="ERNIE Bot",
        applicant=ApplicantFactory(name_zh="百度", name_en="Baidu"),
        batch=BatchFactory(),
    )


def old_addresses(model):
    """Every page's address as it was before the prefixes, with a query where it takes one."""
    return [
        "/",
        "/about/",
        "/backlog/",
        "/models/",
        "/models/?status=approved&jurisdiction=BJ&sort=-approved_on",
        f"/models/{model.slug}/",
        "/applicants/",
        f"/applicants/{model.applicant.slug}/",
        "/batches/",
        f"/batches/{model.batch.slug}/",
        "/reports/",
        "/reports/time-to-approval/",
        "/reports/backlog-ageing/",
        "/reports/batches/",
        "/reports/status-as-of/?date=2024-01-31",
    ]


@pytest.mark.parametrize(
    "headers, language",
    [
        ({}, "en"),
        ({"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}, "zh-hans"),
        ({"HTTP_ACCEPT_LANGUAGE": "de, en;q=0.5"}, "en"),
    ],
)
def test_every_old_address_moves_for_good_to_the_readers_language(client, ernie, headers, language):
    for old in old_addresses(ernie):
        response = client.get(old, **headers)

        assert response.status_code == 301, old
        assert response["Location"] == f"/{language}{old}"
        # Only the reader's browser may keep the redirect, for the same preferences.
        assert response["Vary"] == "Accept-Language, Cookie"
        assert response["Cache-Control"] == "private"
        assert client.get(response["Location"]).status_code == 200, old


def test_the_language_cookie_outranks_the_browsers_preference(client, ernie):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"

    response = client.get("/models/?q=ernie", HTTP_ACCEPT_LANGUAGE="en")

    assert response["Location"] == "/zh-hans/models/?q=ernie"


def test_an_address_without_its_final_slash_is_completed_in_one_redirect(client, ernie):
    response = client.get(f"/models/{ernie.slug}")

    assert response.status_code == 301
    assert response["Location"] == f"/en/models/{ernie.slug}/"


def test_the_address_decides_the_language_whatever_the_reader_prefers(client, ernie):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    chinese = client.get(f"/zh-hans/models/{ernie.slug}/", HTTP_ACCEPT_LANGUAGE="en")
    english = client.get(f"/en/models/{ernie.slug}/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert '<html lang="zh-hans">' in chinese.text
    assert "<h1>文心一言</h1>" in chinese.text
    assert chinese["Content-Language"] == "zh-hans"
    assert '<html lang="en">' in english.text
    assert "<h1>ERNIE Bot</h1>" in english.text
    # The page depends on neither the browser's language nor the cookie.
    assert not english.has_header("Vary")


def test_an_unknown_address_is_a_404_not_a_redirect(client, db):
    assert client.get("/no-such-page/").status_code == 404
    assert client.get("/en/no-such-page/").status_code == 404
    assert client.get("/fr/models/").status_code == 404


def alternate_links(response):
    return re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', response.text)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_page_names_itself_in_each_language_and_the_address_that_picks_one(
    client, ernie, language
):
    response = client.get(f"/{language}/models/?status=approved&q=%E6%96%87")

    assert alternate_links(response) == [
        ("en", "https://example.org/en/models/?status=approved&amp;q=%E6%96%87"),
        ("zh-Hans", "https://example.org/zh-hans/models/?status=approved&amp;q=%E6%96%87"),
        ("x-default", "https://example.org/models/?status=approved&amp;q=%E6%96%87"),
    ]


def test_a_record_page_names_its_alternates(client, ernie):
    response = client.get(f"/zh-hans/batches/{ernie.batch.slug}/")

    assert alternate_links(response) == [
        ("en", f"https://example.org/en/batches/{ernie.batch.slug}/"),
        ("zh-Hans", f"https://example.org/zh-hans/batches/{ernie.batch.slug}/"),
        ("x-default", f"https://example.org/batches/{ernie.batch.slug}/"),
    ]


@pytest.mark.parametrize("path", ["/api/", "/downloads/"])
def test_a_page_without_a_language_in_its_address_names_no_alternates(client, db, path):
    response = client.get(path)

    assert response.status_code == 200
    assert alternate_links(response) == []


@pytest.mark.parametrize(
    "path",
    [
        "/models/export.csv",
        "/applicants/export.csv",
        "/backlog/export.csv",
        "/reports/time-to-approval.csv",
        "/feeds/approvals/",
        "/feeds/changes/",
        "/api/v1/models/",
        "/downloads/",
    ],
)
def test_the_data_keeps_its_addresses_without_a_language(client, db, path):
    assert client.get(path).status_code == 200
    assert client.get(f"/en{path}").status_code == 404


def test_the_pages_link_to_the_data_without_a_language(client, ernie):
    text = client.get("/zh-hans/models/").text

    assert 'href="/feeds/approvals/"' in text
    assert 'href="/downloads/"' in text
    assert 'href="/models/export.csv"' in text
    assert f'href="/zh-hans/models/{ernie.slug}/"' in text


def test_data_files_link_to_pages_by_their_address_without_a_language(client, ernie):
    with translation.override("zh-hans"):
        page = url_maker("https://example.org/", "tracker:model_detail")

    assert page("x") == "https://example.org/models/x/"
    export = client.get("/models/export.csv", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert f",http://testserver/models/{ernie.slug}/,false,".encode() in b"".join(
        export.streaming_content
    )
    api = client.get(f"/api/v1/models/{ernie.slug}/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert api["html_url"] == f"http://testserver/models/{ernie.slug}/"


@pytest.mark.parametrize(
    "path, expected",
    [
        ("/en/models/", "/models/"),
        ("/zh-hans/", "/"),
        ("/zh-hans/models/x/?q=1", "/models/x/?q=1"),
        ("/models/export.csv", "/models/export.csv"),
        ("/english/", "/english/"),
        ("/en", "/en"),
    ],
)
def test_neutral_path_takes_off_only_a_language_prefix(path, expected):
    assert neutral_path(path) == expected


def test_a_page_off_the_prefixes_has_no_alternates(rf):
    assert alternates(rf.get("/api/")) == []


def test_the_reverse_of_a_page_carries_the_active_language(db):
    with translation.override("zh-hans"):
        assert reverse("tracker:model_list") == "/zh-hans/models/"
        assert reverse("data:models_export") == "/models/export.csv"
    assert reverse("tracker:overview") == "/en/"


DATA_ADDRESS = re.compile(
    r"^/(static/|api/|downloads/|feeds/|i18n/|models/export\.csv|applicants/export\.csv"
    r"|backlog/export\.csv|batches/[^/]+/export\.csv|reports/[^/]+\.csv)"
)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_link_of_a_page_stays_in_its_language(client, ernie, language):
    pages = [
        "",
        "about/",
        "backlog/",
        "models/?status=approved",
        f"models/{ernie.slug}/",
        "applicants/",
        f"applicants/{ernie.applicant.slug}/",
        "batches/",
        f"batches/{ernie.batch.slug}/",
        "reports/",
        "reports/charts/",
        "reports/time-to-approval/",
        "reports/backlog-ageing/",
        "reports/batches/",
        "reports/status-as-of/",
    ]
    for page in pages:
        response = client.get(f"/{language}/{page}")
        assert response.status_code == 200, page
        links = re.findall(r'(?:href|action)="(/[^"]*)"', response.text)
        assert links, page
        strays = [
            link
            for link in links
            if not link.startswith(f"/{language}/") and not DATA_ADDRESS.match(link)
        ]
        assert strays == [], page
