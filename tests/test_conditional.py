"""Conditional requests on every public answer: the pages in both languages, the feeds, the
exports and the bulk files carry ETag and Last-Modified from the register stamp, and a
client whose copy is current gets a 304 after one query, before anything is rendered."""

import datetime
import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import http_date

from tests.factories import (
    AIModelFactory,
    ApplicantFactory,
    ApprovedModelFactory,
    BatchFactory,
)
from tracker import stamp
from tracker.models import Applicant, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def register():
    applicant = ApplicantFactory(name_en="Baidu", name_zh="百度")
    batch = BatchFactory()
    ernie = ApprovedModelFactory(applicant=applicant, batch=batch, name_en="ERNIE Bot")
    AIModelFactory(applicant=applicant, status=Status.NATIONAL_REVIEW)
    return {"applicant": applicant, "batch": batch, "ernie": ernie}


def page_addresses(register, language):
    with translation.override(language):
        return [
            reverse("tracker:overview"),
            reverse("tracker:about"),
            reverse("tracker:backlog"),
            reverse("tracker:model_list") + "?status=approved&sort=name",
            register["ernie"].get_absolute_url(),
            reverse("tracker:applicant_list"),
            register["applicant"].get_absolute_url(),
            reverse("tracker:batch_list"),
            register["batch"].get_absolute_url(),
            reverse("tracker:reports"),
            reverse("tracker:report_charts"),
            reverse("tracker:report_time_to_approval"),
            reverse("tracker:report_backlog_ageing"),
            reverse("tracker:report_batches"),
            reverse("tracker:report_status_as_of") + "?date=2024-01-31",
        ]


def data_addresses(register):
    return [
        "/feeds/approvals/",
        "/feeds/changes/?status=approved",
        "/models/export.csv?status=approved",
        "/applicants/export.csv",
        "/backlog/export.csv",
        f"/batches/{register['batch'].slug}/export.csv",
        "/reports/time-to-approval.csv",
        "/api/",
        "/api/v1/models/",
    ]


def every_address(register):
    return [
        *page_addresses(register, "en"),
        *page_addresses(register, "zh-hans"),
        *data_addresses(register),
    ]


def get(client, address, **headers):
    """The answer at ``address``, read to its end (an export holds its slot until then)."""
    response = client.get(address, **headers)
    if response.streaming:
        b"".join(response.streaming_content)
    return response


def test_every_public_answer_carries_validators_and_may_be_kept_briefly(client, register):
    # The register's last change, or today's first moment if later: days in review count
    # to today.
    midnight = timezone.make_aware(
        datetime.datetime.combine(timezone.localdate(), datetime.time.min)
    )
    last_change = max(stamp.current().changed_at, midnight)
    for address in every_address(register):
        response = get(client, address)

        assert response.status_code == 200, address
        assert response["ETag"].startswith('"'), address
        assert response["Last-Modified"] == http_date(last_change.timestamp()), address
        assert response["Cache-Control"] == "public, max-age=60", address
        assert not response.cookies, address


def test_a_current_copy_gets_a_304_after_one_query(client, register, django_assert_num_queries):
    for address in every_address(register):
        etag = get(client, address)["ETag"]

        with django_assert_num_queries(1):
            response = get(client, address, HTTP_IF_NONE_MATCH=etag)

        assert response.status_code == 304, address
        assert response.content == b"", address
        assert response["ETag"] == etag, address


def test_a_copy_from_before_a_write_is_answered_in_full(client, register):
    addresses = every_address(register)
    etags = {address: get(client, address)["ETag"] for address in addresses}

    Applicant.objects.filter(pk=register["applicant"].pk).update(name_en="Baidu, Inc.")

    for address in addresses:
        response = get(client, address, HTTP_IF_NONE_MATCH=etags[address])
        assert response.status_code == 200, address
        assert response["ETag"] != etags[address], address


def test_each_language_and_question_has_its_own_etag(client, register):
    english = page_addresses(register, "en")
    chinese = page_addresses(register, "zh-hans")
    etags = {address: get(client, address)["ETag"] for address in [*english, *chinese]}

    assert len(set(etags.values())) == len(english) + len(chinese)
    feed = [
        get(client, "/feeds/approvals/", HTTP_ACCEPT_LANGUAGE=language)["ETag"]
        for language in ("en", "zh-hans")
    ]
    assert feed[0] != feed[1]


def test_a_page_with_its_language_in_the_address_varies_on_nothing_else(client, register):
    for address in page_addresses(register, "zh-hans"):
        assert not get(client, address).has_header("Vary"), address
    for address in data_addresses(register):
        assert get(client, address)["Vary"] == "Accept-Language, Cookie", address


def test_a_copy_of_another_day_is_answered_in_full(client, register, monkeypatch):
    address = reverse("tracker:backlog")
    etag = get(client, address)["ETag"]
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args: tomorrow)

    assert get(client, address, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_a_bulk_file_is_validated_by_its_checksum(client, register):
    call_command("build_downloads", verbosity=0)
    manifest = json.loads(b"".join(client.get("/downloads/manifest.json").streaming_content))
    entry = next(f for f in manifest["files"] if f["name"] == "register.sqlite")

    response = get(client, "/downloads/register.sqlite")
    assert response["ETag"] == f'"{entry["sha256"]}"'
    assert (
        get(client, "/downloads/register.sqlite", HTTP_IF_NONE_MATCH=response["ETag"]).status_code
        == 304
    )

    page = get(client, "/downloads/")
    assert get(client, "/downloads/", HTTP_IF_NONE_MATCH=page["ETag"]).status_code == 304
    # A new build changes the page, whatever the register.
    call_command("build_downloads", force=True, verbosity=0)
    assert get(client, "/downloads/", HTTP_IF_NONE_MATCH=page["ETag"]).status_code == 200
