"""/about/: the method, the statuses, the data dictionary, the sources and the licence.

What can drift is generated: the statuses from ``Status``, the columns from the export
headers (tracker.analysis.exports), the sources from the batches in the database. Column
descriptions are the bulk downloads' own (tracker.opendata.datapackage), in English and
Chinese, so that one text describes a column wherever it appears.
"""

from dataclasses import dataclass

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tracker import stamp as register_stamp
from tracker.analysis.exports import (
    APPLICANT_HEADER,
    BACKLOG_HEADER,
    BATCH_HEADER,
    BATCH_LIST_HEADER,
    HISTORY_HEADER,
    MODEL_HEADER,
)
from tracker.languages import neutral_path
from tracker.models import PENDING_STATUSES, Batch, Status, in_language
from tracker.opendata import datapackage as dp
from tracker.public.conditional import conditional

STATUS_MEANINGS = {
    Status.SUBMITTED: _(
        "Submitted to the provincial cyberspace office; no review of it has been reported yet."
    ),
    Status.PROVINCIAL_REVIEW: _(
        "Under review by the provincial cyberspace office: the first stage of a filing, "
        "and the only one of a registration."
    ),
    Status.SUPPLEMENT_REQUESTED: _(
        "Sent back to the applicant for more material; the review resumes once it is supplied."
    ),
    Status.NATIONAL_REVIEW: _(
        "Passed the provincial review and under review by the national CAC (filings only)."
    ),
    Status.APPROVED: _(
        "Filed or registered: listed in a list the CAC published, or its approval reported "
        "by a cited source."
    ),
    Status.REJECTED: _("Refused by the provincial office or the national CAC. Final."),
    Status.WITHDRAWN: _("Withdrawn by the applicant before a decision. Final."),
    Status.SUSPENDED: _(
        "An approved service whose filing or registration is suspended; it may be reinstated."
    ),
    Status.CANCELLED: _("An approved filing or registration cancelled (注销). Final."),
    Status.REVOKED: _("An approved filing or registration revoked (撤销) by the authority. Final."),
}


def _described(table):
    return {field.name: (field.en, field.zh) for field in table.fields}


# Columns of the site's own exports that the bulk files do not have, or mean otherwise there.
BACKLOG_DESCRIPTIONS = {
    "name_zh": dp.MODEL_NAME_ZH,
    "name_en": dp.MODEL_NAME_EN,
    "applicant_zh": dp.APPLICANT_NAME_ZH,
    "applicant_en": dp.APPLICANT_NAME_EN,
    "jurisdiction": dp.JURISDICTION_CODE,
    "filing_type": dp.FILING_TYPE,
    "scope": dp.SCOPE,
    "sector": dp.SECTOR,
    "status": (
        "The stage of review: submitted, provincial_review, supplement_requested or "
        "national_review.",
        "审核阶段：submitted 已提交、provincial_review 省级审核、supplement_requested 要求补充材料"
        "或 national_review 国家级审核。",
    ),
    "submitted_on": dp.SUBMITTED_ON,
    "days_waiting": (
        "Days from submission to today; empty when the submission date is unknown.",
        "从提交至今的天数；提交日期未知时为空。",
    ),
    "url": dp.MODEL_URL,
}
BATCH_LIST_DESCRIPTIONS = {
    "序号": dp.SEQ_NO,
    "属地": (
        "属地: the Chinese name of the applicant's province-level region.",
        "属地：申请单位所在省级行政区的中文名称。",
    ),
    "模型名称": (
        "The name as published: of the model, or of the app or function for a registration; "
        "the English name when no Chinese one is known.",
        "公布的名称：模型名称，登记则为应用或功能名称；没有中文名称时为英文名称。",
    ),
    "备案单位": (
        "The applicant (备案单位, or 登记单位 for a registration); the English name when no "
        "Chinese one is known.",
        "申请单位（备案单位，登记为登记单位）；没有中文名称时为英文名称。",
    ),
    "备案号": dp.FILING_NUMBER,
    "备案时间": dp.APPROVED_ON,
    "适用场景": dp.ON_DEVICE,
    "filing_type": dp.FILING_TYPE,
}
MODEL_DESCRIPTIONS = _described(dp.MODELS) | {
    "days_in_review": (
        "Days from submission to approval or, for a pending submission, to today (in the "
        "bulk download, to the day the register last changed); empty when the submission "
        "date is unknown.",
        "从提交到批准的天数；审核中的申请计至今天（批量下载中计至登记册最后更新之日）；"
        "提交日期未知时为空。",
    ),
}


@dataclass(frozen=True)
class ExportDoc:
    key: str
    title: str
    where: str  # the file's address, or where to find it
    url: str  # a link to it, or to the page listing it
    header: list
    descriptions: dict


def export_docs():
    """Every CSV file the register serves, with its columns' descriptions."""
    return [
        ExportDoc(
            "models",
            _("Models"),
            reverse("data:models_export"),
            reverse("data:models_export"),
            MODEL_HEADER,
            MODEL_DESCRIPTIONS,
        ),
        ExportDoc(
            "applicants",
            _("Applicants"),
            reverse("data:applicants_export"),
            reverse("data:applicants_export"),
            APPLICANT_HEADER,
            _described(dp.APPLICANTS),
        ),
        ExportDoc(
            "backlog",
            _("Backlog"),
            reverse("data:backlog_export"),
            reverse("data:backlog_export"),
            BACKLOG_HEADER,
            BACKLOG_DESCRIPTIONS,
        ),
        ExportDoc(
            "batch-list",
            _("A batch's published list"),
            "/batches/<slug>/export.csv",
            reverse("tracker:batch_list"),
            BATCH_LIST_HEADER,
            BATCH_LIST_DESCRIPTIONS,
        ),
        ExportDoc(
            "batches",
            _("Batches (bulk download)"),
            "register-csv.zip: batches.csv",
            reverse("data:downloads"),
            BATCH_HEADER,
            _described(dp.BATCHES),
        ),
        ExportDoc(
            "history",
            _("History (bulk download)"),
            "register-csv.zip: history.csv",
            reverse("data:downloads"),
            HISTORY_HEADER,
            _described(dp.HISTORY),
        ),
    ]


def _columns(doc):
    """(name, description) per column; the name in its parts between underscores, where a
    narrow screen may break it."""
    rows = []
    for name in doc.header:
        en, zh = doc.descriptions.get(name, ("", ""))
        rows.append((name.split("_"), in_language(zh, en)))
    return rows


@conditional
def about(request):
    current = register_stamp.current()
    changed_at = timezone.localtime(current.changed_at) if current else None
    statuses = [
        {"value": status.value, "label": status.label, "meaning": STATUS_MEANINGS.get(status, "")}
        for status in Status
    ]
    context = {
        "statuses": statuses,
        "pending_labels": [status.label for status in PENDING_STATUSES],
        "exports": [{"doc": doc, "columns": _columns(doc)} for doc in export_docs()],
        "batches": Batch.objects.order_by("announced_on", "pk").only(
            "slug", "title_zh", "title_en", "announced_on", "announced_precision", "source_url"
        ),
        "changed_at": changed_at,
        "page_url": request.build_absolute_uri(neutral_path(reverse("tracker:about"))),
        "contact_email": settings.CONTACT_EMAIL,
    }
    return render(request, "tracker/about.html", context)
