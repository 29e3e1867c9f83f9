"""The site's own error pages, as production serves them (DEBUG off): the site's header, a
search box and the main pages, in the reader's language, even with the database down.

This module is also the URLconf of its tests: the site's, with views that fail on purpose.
"""

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import OperationalError, connection
from django.test import Client, override_settings
from django.urls import path

from config import urls as site_urls
from tracker.models import AIModel


def fails(request):
    raise RuntimeError("A bug in a view")


def reads_the_database(request):
    AIModel.objects.count()


def refuses(request):
    raise PermissionDenied


def is_suspicious(request):
    raise SuspiciousOperation("A malformed request")


urlpatterns = [
    path("test/fails/", fails),
    path("test/reads-the-database/", reads_the_database),
    path("test/refuses/", refuses),
    path("test/is-suspicious/", is_suspicious),
    *site_urls.urlpatterns,
]
handler400 = site_urls.handler400
handler500 = site_urls.handler500

pytestmark = pytest.mark.django_db

CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.fixture
def production():
    """A client of the site with DEBUG off, which receives a 500 page rather than raising."""
    with override_settings(DEBUG=False, ROOT_URLCONF=__name__):
        yield Client(raise_request_exception=False)


def error_links(response):
    return response.text.split('<nav class="error-links"', 1)[1].split("</nav>", 1)[0]


def assert_site_page(response, *, heading, search="Search the register"):
    """The page has the site's header, the heading, a search of /models/ and the main pages."""
    text = response.text
    # The page's links are in its own language.
    home = "/zh-hans/" if '<html lang="zh-hans">' in text else "/en/"
    assert '<header class="site-header">' in text
    assert f'<a class="site-name" href="{home}">' in text
    assert f"<h1>{heading}</h1>" in text
    assert f'<form class="error-search" method="get" action="{home}models/" role="search">' in text
    assert f'<label for="error-q">{search}</label>' in text
    assert '<input type="search" id="error-q" name="q" maxlength="200"' in text
    links = error_links(response)
    for url in ("", "models/", "applicants/", "batches/", "reports/"):
        assert f'<a href="{home}{url}">' in links, url


def test_a_missing_page_is_the_sites_own_404(production):
    response = production.get("/no-such-page/")

    assert response.status_code == 404
    assert_site_page(response, heading="Page not found")
    assert "There is no page at this address." in response.text
    assert '<a href="/en/models/">Models</a>' in error_links(response)
    assert '<html lang="en">' in response.text


def test_a_missing_record_is_the_sites_own_404(production):
    response = production.get("/en/models/no-such-model/")

    assert response.status_code == 404
    assert_site_page(response, heading="Page not found")


def test_the_404_speaks_the_readers_language(production):
    response = production.get("/no-such-page/", **CHINESE)

    assert response.status_code == 404
    assert '<html lang="zh-hans">' in response.text
    assert_site_page(response, heading="页面没有找到", search="搜索登记册")
    assert '<a href="/zh-hans/applicants/">申请单位</a>' in error_links(response)
    assert "跳到正文" in response.text
    assert "Page not found" not in response.text


def test_a_server_error_is_the_sites_own_500(production):
    response = production.get("/test/fails/")

    assert response.status_code == 500
    assert_site_page(response, heading="Something went wrong")
    assert '<a href="/en/reports/">Reports</a>' in error_links(response)


def test_the_500_speaks_the_readers_language(production):
    response = production.get("/test/fails/", **CHINESE)

    assert response.status_code == 500
    assert '<html lang="zh-hans">' in response.text
    assert_site_page(response, heading="出错了", search="搜索登记册")
    assert '<a href="/zh-hans/batches/">批次</a>' in error_links(response)


def refuse_every_query(execute, sql, params, many, context):
    raise OperationalError("The database is down")


@pytest.mark.parametrize("headers, home", [({}, "/en/"), (CHINESE, "/zh-hans/")])
def test_the_500_page_shows_with_the_database_down(production, headers, home):
    with connection.execute_wrapper(refuse_every_query):
        response = production.get("/test/reads-the-database/", **headers)

    assert response.status_code == 500
    assert '<header class="site-header">' in response.text
    assert (
        f'<form class="error-search" method="get" action="{home}models/" role="search">'
        in response.text
    )


def test_a_refused_page_is_the_sites_own_403(production):
    response = production.get("/test/refuses/")

    assert response.status_code == 403
    assert_site_page(response, heading="Access refused")


def test_the_403_speaks_the_readers_language(production):
    response = production.get("/test/refuses/", **CHINESE)

    assert response.status_code == 403
    assert_site_page(response, heading="拒绝访问", search="搜索登记册")


def test_a_bad_request_is_the_sites_own_400(production):
    response = production.get("/test/is-suspicious/")

    assert response.status_code == 400
    assert_site_page(response, heading="Bad request")


def test_the_400_speaks_the_readers_language(production):
    response = production.get("/test/is-suspicious/", **CHINESE)

    assert response.status_code == 400
    assert_site_page(response, heading="请求有误", search="搜索登记册")


def test_a_request_for_another_host_gets_the_400_page(production):
    # Its page must not ask the refused Host for an absolute address (og:url).
    response = production.get("/en/", HTTP_HOST="attacker.example")

    assert response.status_code == 400
    assert_site_page(response, heading="Bad request")
    assert "attacker.example" not in response.text


def test_error_pages_keep_the_content_security_policy(production):
    response = production.get("/test/fails/")

    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "<script" not in response.text
    assert "style=" not in response.text
