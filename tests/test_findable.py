"""What search engines and link previews read: the sitemap, robots.txt, the favicon, and
each page's title, description and Open Graph tags."""

import datetime
import re

import pytest
from django.contrib.staticfiles import finders
from django.http import QueryDict

from tests.factories import (
    AIModelFactory,
    ApplicantFactory,
    ApprovedModelFactory,
    BatchFactory,
    jurisdiction,
)
from tracker.models import AIModel, Applicant, Batch, FilingType, Status
from tracker.public.filters import AIModelFilter
from tracker.public.sitemaps import ModelSitemap
from tracker.public.views import listing_title

pytestmark = pytest.mark.django_db

CHANGED = datetime.datetime(2024, 5, 6, 4, 0, tzinfo=datetime.UTC)


@pytest.fixture
def register(settings):
    settings.SITE_URL = "https://example.org/"
    baidu = ApplicantFactory(
        name_zh="北京百度网讯科技有限公司", name_en="Baidu", jurisdiction=jurisdiction("BJ")
    )
    first = BatchFactory(title_en="First batch", title_zh="第一批")
    ernie = ApprovedModelFactory(
        name_zh="文心一言",
        name_en="ERNIE Bot",
        applicant=baidu,
        filing_number="Beijing-WenXinYiYan-20230821",
        submitted_on=datetime.date(2023, 5, 1),
        approved_on=datetime.date(2023, 8, 31),
        batch=first,
    )
    pending = AIModelFactory(name_en="Hailuo", applicant=baidu, status=Status.NATIONAL_REVIEW)
    return {"baidu": baidu, "first": first, "ernie": ernie, "pending": pending}


def meta(response, attribute, name):
    """The content of the page's only <meta {attribute}="{name}">."""
    found = re.findall(rf'<meta {attribute}="{re.escape(name)}" content="([^"]*)">', response.text)
    assert len(found) == 1, (name, found)
    return found[0]


def title(response):
    return re.search(r"<title>(.*)</title>", response.text).group(1)


# robots.txt and the favicon


def test_robots_txt_allows_all_but_the_admin_and_names_the_sitemap(client):
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.text == (
        "User-agent: *\nDisallow: /admin/\n\nSitemap: http://testserver/sitemap.xml\n"
    )


def test_robots_txt_names_the_sitemap_at_the_https_address_behind_the_proxy(client, settings):
    settings.ALLOWED_HOSTS = ["example.org"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    response = client.get("/robots.txt", HTTP_HOST="example.org", HTTP_X_FORWARDED_PROTO="https")

    assert response.text.endswith("Sitemap: https://example.org/sitemap.xml\n")


def test_favicon_ico_leads_to_the_svg_icon_every_page_links(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"] == "/static/favicon.svg"
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in (
        client.get("/en/").text
    )
    icon = finders.find("favicon.svg")
    with open(icon, encoding="utf-8") as svg:
        assert svg.read().startswith('<svg xmlns="http://www.w3.org/2000/svg"')


# The sitemap


def test_the_sitemap_index_lists_a_section_for_pages_models_applicants_and_batches(
    client, register
):
    AIModel.objects.update(updated_at=CHANGED)

    response = client.get("/sitemap.xml")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    locations = re.findall(r"<loc>(.*?)</loc>", response.text)
    assert locations == [
        "http://testserver/sitemap-pages.xml",
        "http://testserver/sitemap-models.xml",
        "http://testserver/sitemap-applicants.xml",
        "http://testserver/sitemap-batches.xml",
    ]
    assert (
        "<loc>http://testserver/sitemap-models.xml</loc><lastmod>2024-05-06T12:00:00+08:00</lastmod>"
        in response.text
    )


def test_the_pages_section_lists_the_overview_listings_and_reports(client):
    response = client.get("/sitemap-pages.xml")

    pages = [
        "",
        "models/",
        "applicants/",
        "batches/",
        "backlog/",
        "reports/",
        "reports/charts/",
        "reports/time-to-approval/",
        "reports/backlog-ageing/",
        "reports/batches/",
        "reports/status-as-of/",
        "about/",
    ]
    assert re.findall(r"<loc>http://testserver(.*?)</loc>", response.text) == [
        f"/{language}/{page}" for page in pages for language in ("en", "zh-hans")
    ]


def test_every_model_applicant_and_batch_page_is_in_the_sitemap_with_its_last_change(
    client, register
):
    for model in (AIModel, Applicant, Batch):
        model.objects.update(updated_at=CHANGED)
    ernie, pending = register["ernie"], register["pending"]

    models = client.get("/sitemap-models.xml").text
    applicants = client.get("/sitemap-applicants.xml").text
    batches = client.get("/sitemap-batches.xml").text

    for text, record in [
        (models, ernie),
        (models, pending),
        (applicants, register["baidu"]),
        (batches, register["first"]),
    ]:
        english = f"http://testserver{record.get_absolute_url()}"
        chinese = english.replace("/en/", "/zh-hans/", 1)
        neutral = english.replace("/en/", "/", 1)
        alternates = (
            f'<xhtml:link rel="alternate" hreflang="en" href="{english}"/>'
            f'<xhtml:link rel="alternate" hreflang="zh-hans" href="{chinese}"/>'
            f'<xhtml:link rel="alternate" hreflang="x-default" href="{neutral}"/>'
        )
        for url in (english, chinese):
            assert (
                f"<url><loc>{url}</loc><lastmod>2024-05-06</lastmod>{alternates}</url>" in text
            ), url
    assert models.count("<url>") == 4


def test_a_sitemap_section_reads_two_queries_however_many_rows(
    client, register, django_assert_num_queries
):
    # 1. the section's count, for its pages; 2. the slug and last change of its rows
    with django_assert_num_queries(2):
        client.get("/sitemap-models.xml")
    ApprovedModelFactory.create_batch(5, applicant=register["baidu"])
    with django_assert_num_queries(2):
        response = client.get("/sitemap-models.xml")
    assert response.text.count("<url>") == 14


def test_the_sitemap_index_reads_two_queries_a_section(client, register, django_assert_num_queries):
    # For each of models, applicants and batches: 1. its latest change; 2. its count, for its
    # pages. The pages section is a list in the code.
    with django_assert_num_queries(6):
        client.get("/sitemap.xml")
    ApprovedModelFactory.create_batch(5, applicant=register["baidu"])
    with django_assert_num_queries(6):
        client.get("/sitemap.xml")


def test_a_section_over_the_limit_is_split_into_pages_the_index_lists(
    client, register, monkeypatch
):
    # Two models in two languages: four addresses, three a page.
    monkeypatch.setattr(ModelSitemap, "limit", 3)

    index = client.get("/sitemap.xml").text
    first = client.get("/sitemap-models.xml").text
    second = client.get("/sitemap-models.xml?p=2").text

    assert "<loc>http://testserver/sitemap-models.xml?p=2</loc>" in index
    assert "sitemap-models.xml?p=3" not in index
    ernie, pending = register["ernie"].slug, register["pending"].slug
    assert re.findall(r"<loc>http://testserver(.*?)</loc>", first) == [
        f"/en/models/{ernie}/",
        f"/zh-hans/models/{ernie}/",
        f"/en/models/{pending}/",
    ]
    assert re.findall(r"<loc>http://testserver(.*?)</loc>", second) == [
        f"/zh-hans/models/{pending}/"
    ]
    assert client.get("/sitemap-models.xml?p=3").status_code == 404


# Titles, descriptions and Open Graph tags


def test_every_public_page_has_a_description_open_graph_and_twitter_card(client, register):
    pages = [
        "/en/",
        "/en/models/",
        "/en/applicants/",
        "/en/batches/",
        "/en/backlog/",
        "/en/reports/",
        register["ernie"].get_absolute_url(),
        register["baidu"].get_absolute_url(),
        register["first"].get_absolute_url(),
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        page_title = title(response).removesuffix(" · Approval tracker")
        assert meta(response, "property", "og:title") == page_title, path
        description = meta(response, "name", "description")
        assert len(description) > 50, path
        assert meta(response, "property", "og:description") == description, path
        assert meta(response, "property", "og:type") == "website", path
        assert meta(response, "property", "og:url") == f"https://example.org{path}", path
        assert meta(response, "property", "og:site_name") == "Approval tracker", path
        assert meta(response, "property", "og:locale") == "en_US", path
        assert meta(response, "name", "twitter:card") == "summary", path


def test_the_open_graph_address_keeps_the_query_and_the_locale_follows_the_language(
    client, register
):
    response = client.get("/zh-hans/models/?status=approved&jurisdiction=BJ")

    assert meta(response, "property", "og:url") == (
        "https://example.org/zh-hans/models/?status=approved&amp;jurisdiction=BJ"
    )
    assert meta(response, "property", "og:locale") == "zh_CN"
    assert meta(response, "property", "og:site_name") == "备案追踪"


def test_a_model_page_describes_its_name_applicant_status_and_approval(client, register):
    response = client.get(register["ernie"].get_absolute_url())

    assert title(response) == "ERNIE Bot · Approval tracker"
    assert meta(response, "name", "description") == (
        "ERNIE Bot, a generative AI model of Baidu. Status: Approved, approved on 2023-08-31. "
        "Filing number Beijing-WenXinYiYan-20230821."
    )


def test_a_pending_model_page_says_its_status_without_an_approval(client, register):
    response = client.get(register["pending"].get_absolute_url())

    assert meta(response, "name", "description") == (
        "Hailuo, a generative AI model of Baidu. Status: National review."
    )


def test_a_model_page_describes_it_in_chinese(client, register):
    response = client.get(register["ernie"].get_absolute_url().replace("/en/", "/zh-hans/", 1))

    assert meta(response, "name", "description") == (
        "文心一言，北京百度网讯科技有限公司的生成式人工智能模型。状态：已备案，"
        "备案日期 2023-08-31。备案号 Beijing-WenXinYiYan-20230821。"
    )


def test_an_applicant_page_describes_its_models_by_status(client, register):
    response = client.get(register["baidu"].get_absolute_url())

    assert meta(response, "name", "description") == (
        "The generative AI models Baidu filed or registered with the Cyberspace Administration "
        "of China, with their status, filing numbers and approval dates. "
        "National review 1 · Approved 1"
    )


def test_a_batch_page_describes_its_announcement(client, register):
    response = client.get(register["first"].get_absolute_url())

    assert title(response) == "First batch · Approval tracker"
    assert meta(response, "name", "description") == (
        "First batch, announced 2024-04-02: the generative AI models it approved, with their "
        "applicants, filing numbers and approval dates."
    )


def test_names_are_escaped_once_in_titles_and_tags(client, register):
    applicant = ApplicantFactory(name_en='Tom & "Jerry" AI')

    response = client.get(applicant.get_absolute_url())

    assert title(response) == "Tom &amp; &quot;Jerry&quot; AI · Approval tracker"
    assert meta(response, "property", "og:title") == "Tom &amp; &quot;Jerry&quot; AI"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", "Models"),
        ("status=approved", "Approved models"),
        ("status=approved&jurisdiction=BJ", "Approved models in Beijing"),
        ("status=approved&status=rejected", "Approved / Rejected models"),
        ("applicant=baidu", "Models by Baidu"),
        ("batch=first-batch", "Models in First batch"),
        ("q=ernie", "Models matching “ernie”"),
        ("filing_type=registration&scope=industry", "Models (Registration, Industry-specific)"),
        ("approved_after=2024-01-01", "Models (Approved from 2024-01-01)"),
        ("status=nonsense", "Models"),
        ("sort=name", "Models"),
    ],
)
def test_the_models_title_says_which_models_the_filters_keep(register, query, expected):
    assert listing_title(AIModelFilter(QueryDict(query))) == expected


def test_the_models_page_is_titled_and_described_by_its_filters(client, register):
    response = client.get("/en/models/?status=approved&jurisdiction=BJ")

    assert title(response) == "Approved models in Beijing · Approval tracker"
    assert meta(response, "property", "og:title") == "Approved models in Beijing"
    assert meta(response, "name", "description") == (
        "Approved models in Beijing, each with its applicant, status, filing number and approval "
        "date: from an independent register of generative AI filings with the Cyberspace "
        "Administration of China."
    )


def test_the_unfiltered_models_page_describes_the_register(client, register):
    response = client.get("/en/models/")

    assert title(response) == "Models · Approval tracker"
    assert meta(response, "name", "description").startswith(
        "Every generative AI model and service in the register"
    )


def test_the_models_title_speaks_chinese(client, register):
    response = client.get(
        f"/zh-hans/models/?status=approved&jurisdiction=BJ&filing_type={FilingType.REGISTRATION}"
    )

    assert title(response) == "北京的已备案模型（登记） · 备案追踪"
