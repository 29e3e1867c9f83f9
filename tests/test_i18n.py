import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import ApplicantFactory, ApprovedModelFactory

pytestmark = pytest.mark.django_db

PO_FILE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


@pytest.fixture
def ernie():
    baidu = ApplicantFactory(name_zh="北京百度网讯科技有限公司", name_en="Baidu")
    return ApprovedModelFactory(name_zh="文心一言", name_en="ERNIE Bot", applicant=baidu)


@pytest.fixture
def chinese_only():
    applicant = ApplicantFactory(name_zh="上海人工智能实验室", name_en="")
    return ApprovedModelFactory(name_zh="书生", name_en="", applicant=applicant)


def test_english_is_the_default_with_english_names(client, ernie):
    response = client.get("/en/models/")
    assert '<html lang="en">' in response.text
    assert ">Applicants</a>" in response.text
    assert "ERNIE Bot" in response.text
    assert "Baidu" in response.text


def test_accept_language_chinese_shows_the_chinese_interface_and_names(client, ernie):
    response = client.get("/models/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9", follow=True)
    assert response.redirect_chain == [("/zh-hans/models/", 301)]
    assert '<html lang="zh-hans">' in response.text
    assert ">申请单位</a>" in response.text
    assert "导出 CSV" in response.text
    assert "文心一言" in response.text
    assert "北京百度网讯科技有限公司" in response.text
    assert "ERNIE Bot" not in response.text
    assert "已备案" in response.text  # the status label


def test_names_fall_back_to_the_other_language(client, chinese_only):
    response = client.get("/en/models/")
    assert "书生" in response.text
    assert "上海人工智能实验室" in response.text


def test_every_detail_page_and_listing_speaks_chinese(client, ernie):
    pages = [
        "/en/models/",
        ernie.get_absolute_url(),
        "/en/applicants/",
        ernie.applicant.get_absolute_url(),
        "/en/batches/",
        ernie.batch.get_absolute_url(),
    ]
    for path in pages:
        response = client.get(path.replace("/en/", "/zh-hans/", 1))
        assert response.status_code == 200, path
        assert "跳到正文" in response.text, path
        assert "Skip to content" not in response.text, path


def test_what_was_ignored_is_said_in_chinese(client, ernie):
    response = client.get("/zh-hans/models/?status=foo")
    assert "已忽略状态“foo”：不是已知的值。" in response.text


def test_the_language_switcher_is_a_plain_form_that_works_without_javascript(client, ernie):
    response = client.get("/en/models/?status=approved")
    assert 'action="/i18n/setlang/"' in response.text
    assert 'name="next" type="hidden" value="/en/models/?status=approved"' in response.text
    switched = client.post(
        "/i18n/setlang/", {"language": "zh-hans", "next": "/en/models/?status=approved"}
    )
    assert switched.status_code == 302
    assert switched["Location"] == "/zh-hans/models/?status=approved"
    response = client.get("/zh-hans/models/?status=approved")
    assert "文心一言" in response.text
    assert ">申请单位</a>" in response.text
    # The choice is remembered for addresses without a language.
    assert client.get("/models/")["Location"] == "/zh-hans/models/"
    back = client.post("/i18n/setlang/", {"language": "en", "next": "/zh-hans/models/"})
    assert back["Location"] == "/en/models/"
    assert "ERNIE Bot" in client.get("/en/models/").text


def test_the_chinese_catalogue_translates_every_message():
    text = PO_FILE.read_text(encoding="utf-8")
    entries = text.split("\n\n")[1:]  # the first entry is the header
    untranslated = [
        entry
        for entry in entries
        if re.search(r'^msgstr(\[0\])? ""$', entry, re.MULTILINE)
        and not re.search(r'^msgstr(\[0\])? ""\n"', entry, re.MULTILINE)
    ]
    assert untranslated == []
    assert "#, fuzzy" not in text
