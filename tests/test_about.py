import datetime

import pytest
from django.test.html import parse_html
from django.utils import timezone
from django.utils.html import escape

from tests.factories import BatchFactory
from tracker import stamp
from tracker.analysis import exports
from tracker.models import DatePrecision, Status
from tracker.public.about import STATUS_MEANINGS, export_docs

pytestmark = pytest.mark.django_db

CC_BY = "https://creativecommons.org/licenses/by/4.0/"


def _page(client, language="en"):
    response = client.get(f"/{language}/about/")
    assert response.status_code == 200
    return response, parse_html(response.text)


def _has(page, html):
    return page.count(parse_html(html)) == 1


# Units: what the page is generated from. ----------------------------------------------------


def test_every_status_has_a_meaning():
    assert set(STATUS_MEANINGS) == set(Status)
    assert all(str(meaning) for meaning in STATUS_MEANINGS.values())


def test_every_column_of_every_export_has_a_description_in_both_languages():
    for doc in export_docs():
        missing = [
            name
            for name in doc.header
            if len(doc.descriptions.get(name, ())) != 2 or not all(doc.descriptions[name])
        ]
        assert missing == [], doc.key
        # No description is left behind for a column that is gone.
        assert set(doc.descriptions) == set(doc.header), doc.key


def test_every_header_of_the_exports_module_is_documented():
    documented = {tuple(doc.header) for doc in export_docs()}
    assert documented == {
        tuple(exports.MODEL_HEADER),
        tuple(exports.APPLICANT_HEADER),
        tuple(exports.BACKLOG_HEADER),
        tuple(exports.BATCH_LIST_HEADER),
        tuple(exports.BATCH_HEADER),
        tuple(exports.HISTORY_HEADER),
    }
    # A header list added to the exports module has its columns documented too.
    columns = {name for doc in export_docs() for name in doc.header}
    headers = [
        value
        for name, value in vars(exports).items()
        if name.endswith("_HEADER") and isinstance(value, list)
    ]
    assert [name for header in headers for name in header if name not in columns] == []


# The page. ---------------------------------------------------------------------------------


def test_the_about_page_answers_in_english(client):
    response, page = _page(client)
    assert '<html lang="en">' in response.text
    assert _has(page, "<h1>About the register</h1>")
    assert "<title>About the register · Approval tracker</title>" in response.text


def test_the_about_page_answers_in_chinese(client):
    response, page = _page(client, "zh-hans")
    assert '<html lang="zh-hans">' in response.text
    assert "跳到正文" in response.text
    # Column descriptions come in the reader's language: here in the models and backlog files.
    row = (
        '<tr><th scope="row"><code class="code">name_<wbr>zh</code></th>'
        "<td>模型中文名称；未报道的为空。</td></tr>"
    )
    assert page.count(parse_html(row)) == 2
    assert _has(page, '<span class="status status-approved">已备案</span>')


def test_the_about_page_speaks_chinese(client):
    _, page = _page(client, "zh-hans")
    assert _has(page, "<h1>关于本登记册</h1>")
    assert _has(page, '<h2 id="data-dictionary">数据字典</h2>')


def test_the_page_explains_the_method_and_its_terms(client):
    _, page = _page(client)
    for term in ("Filing (备案)", "Registration (登记)", "Entered", "Announced"):
        assert _has(page, f"<dt>{term}</dt>"), term
    assert _has(page, '<h2 id="dates">Estimated dates</h2>')


def test_every_status_is_listed_with_its_label_value_and_meaning(client):
    _, page = _page(client)
    for status in Status:
        row = (
            f'<tr id="status-{status.value}"><th scope="row">'
            f'<span class="status status-{status.value}">{status.label}</span><br>'
            f'<code class="code">{status.value}</code></th>'
            f"<td>{escape(STATUS_MEANINGS[status])}</td></tr>"
        )
        assert _has(page, row), status


def test_every_column_of_each_export_is_described(client):
    _, page = _page(client)
    docs = export_docs()
    for doc in docs:
        assert _has(page, f'<h3 id="columns-{doc.key}">{doc.title}</h3>'), doc.key
        for name in doc.header:
            description = doc.descriptions[name][0]
            code = "_<wbr>".join(name.split("_"))
            row = (
                f'<tr><th scope="row"><code class="code">{code}</code></th>'
                f"<td>{escape(description)}</td></tr>"
            )
            # A column that means the same in several files is described once in each.
            files = [d for d in docs if d.descriptions.get(name, ("",))[0] == description]
            assert page.count(parse_html(row)) == len(files), (doc.key, name)
    assert _has(
        page, '<a href="/models/export.csv"><code class="code">/models/export.csv</code></a>'
    )


def test_every_batch_is_listed_with_its_notice(client):
    known = BatchFactory(
        title_en="Filed services (2024-04 list)",
        announced_on=datetime.date(2024, 4, 2),
        source_url="https://www.cac.gov.cn/2024-04/02/c_1713729983803145.htm",
    )
    month_only = BatchFactory(
        title_en="Filed services (2024-08 list)",
        announced_on=datetime.date(2024, 8, 1),
        announced_precision=DatePrecision.MONTH,
    )
    _, page = _page(client)
    assert _has(
        page,
        f'<tr><th scope="row"><a href="{known.get_absolute_url()}">Filed services (2024-04 list)'
        '</a></th><td class="date">2024-04-02</td><td><a class="about-url" '
        'href="https://www.cac.gov.cn/2024-04/02/c_1713729983803145.htm">'
        "https://www.cac.gov.cn/2024-04/02/c_1713729983803145.htm</a></td></tr>",
    )
    assert _has(
        page,
        f'<tr><th scope="row"><a href="{month_only.get_absolute_url()}">Filed services (2024-08 '
        'list)</a></th><td class="date">2024-08</td><td><span class="help">Address not known'
        "</span></td></tr>",
    )


def test_the_licence_and_the_citation_with_the_last_change(client):
    BatchFactory()  # a change of the register
    changed = timezone.localtime(stamp.current().changed_at)
    response, page = _page(client)
    assert _has(
        page,
        f'<a href="{CC_BY}" rel="license">'
        "Creative Commons Attribution 4.0 International licence (CC BY 4.0)</a>",
    )
    assert _has(
        page,
        '<p class="code-block citation">Approval tracker: generative AI filings with the CAC. '
        f"http://testserver/about/ (register as of {changed:%Y-%m-%d}).</p>",
    )
    assert _has(
        page,
        "<p>The register last changed on "
        f'<time datetime="{changed.isoformat()}">{changed:%Y-%m-%d %H:%M}</time> '
        "(China Standard Time).</p>",
    )


def test_errors_are_reported_to_the_configured_address(client, settings):
    settings.CONTACT_EMAIL = "fixes@tracker.test"
    _, page = _page(client)
    assert _has(page, '<a href="mailto:fixes@tracker.test">fixes@tracker.test</a>')


def test_the_page_needs_no_inline_script_or_style(client):
    response, _ = _page(client)
    assert "Content-Security-Policy" in response.headers
    assert "<script" not in response.text
    assert "style=" not in response.text


def test_the_page_reads_the_stamp_and_the_batches_in_two_queries(client, django_assert_num_queries):
    BatchFactory.create_batch(3)
    # 1. the register stamp, 2. the batches
    with django_assert_num_queries(2):
        client.get("/en/about/")


def test_the_footer_links_to_the_about_page(client):
    response = client.get("/en/models/")
    assert '<a href="/en/about/">About the data</a>' in response.text
