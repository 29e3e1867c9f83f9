"""The one CSV writer, and the exports built on it.

Every CSV the project serves or writes (listing exports, reports, the admin action, the
``export_csv`` command, the importer's rejected rows) goes through ``csv_chunks``: UTF-8 with
a byte-order mark so Excel reads Chinese, one header row, ISO dates, empty cells for unknown
values, and text that a spreadsheet would run as a formula prefixed with ``'``.

Rows come from ``values_list(...).iterator()`` and are written in chunks, so an export of
any size runs in constant memory.
"""

import csv
import datetime
import io
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    DateField,
    F,
    Func,
    IntegerField,
    Value,
    When,
)
from django.db.models.functions import Concat
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header

from tracker.bulk import CHUNK_SIZE
from tracker.languages import neutral_path
from tracker.models import (
    PENDING_STATUSES,
    AIModel,
    Applicant,
    Batch,
    Status,
    StatusChange,
    days_in_review,
)

BOM = "\ufeff"
CHUNK_ROWS = 500
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_CHARS = frozenset(FORMULA_STARTS)

MODEL_HEADER = [
    "filing_number",
    "name_zh",
    "name_en",
    "applicant_zh",
    "applicant_en",
    "jurisdiction",
    "filing_type",
    "scope",
    "sector",
    "status",
    "submitted_on",
    "approved_on",
    "batch",
    "days_in_review",
    "url",
    # Appended columns: never reordered, so scripts reading the file by position keep working.
    "approved_on_estimated",
    "seq_no",
    "upstream_filing_number",
    "on_device_scenario",
]
# The layout of the lists the CAC publishes, so a batch exported here imports back unchanged.
PUBLISHED_HEADER = ["序号", "属地", "模型名称", "备案单位", "备案号", "备案时间"]
# The on-device table's extra column (the device a service runs on).
ON_DEVICE_HEADER = "适用场景"


def cell(value):
    """One value as a CSV cell: numbers stay numbers, text is guarded against formulas."""
    # Text and empty cells first: they are most of every export, which calls this per cell.
    if type(value) is str:
        return "'" + value if value and value[0] in FORMULA_CHARS else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _cells(row):
    """``row`` as cells. A value ``cell`` would leave as it is (text no formula starts,
    an integer, None, which the writer leaves empty as ``cell`` does) skips the call:
    this runs for every value of every export."""
    return [
        value
        if (type(value) is str and value[:1] not in FORMULA_CHARS)
        or value is None
        or type(value) is int
        else cell(value)
        for value in row
    ]


def csv_chunks(header, rows, chunk_rows=CHUNK_ROWS):
    """Yield the CSV file as encoded chunks of ``chunk_rows`` rows each."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow(header)
    for batch in itertools.batched(rows, chunk_rows):
        writer.writerows(map(_cells, batch))
        if len(batch) == chunk_rows:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


@dataclass
class Export:
    """A CSV file to be: its name (without date and extension), header and rows."""

    name: str
    header: list
    rows: Iterable
    # What the rows were chosen by, for the file name: status-approved_jurisdiction-BJ.
    selection: str = ""

    def filename(self):
        today = timezone.localdate().isoformat()
        if self.selection:
            return f"{self.name}_{self.selection}_{today}.csv"
        return f"{self.name}-{today}.csv"

    def chunks(self):
        return csv_chunks(self.header, self.rows)

    def response(self):
        return StreamingHttpResponse(
            self.chunks(),
            content_type="text/csv; charset=utf-8",
            # A filter's value may be Chinese: the header then carries it as RFC 6266 says.
            headers={"Content-Disposition": content_disposition_header(True, self.filename())},
        )

    def write_to(self, stream):
        for chunk in self.chunks():
            stream.write(chunk)


def _url_parts(base_url, route):
    """The absolute URL of ``route`` around its slug, as (head, tail): one ``reverse``
    instead of one per row. The address has no language prefix: a file is read in every
    language."""
    placeholder = "__slug__"
    template = base_url.rstrip("/") + neutral_path(reverse(route, args=[placeholder]))
    head, tail = template.split(placeholder)
    return head, tail


def url_maker(base_url, route):
    """A fast slug → absolute URL function."""
    head, tail = _url_parts(base_url, route)
    return lambda slug: f"{head}{slug}{tail}"


class IsoDate(Func):
    """A date as its ISO text, written by the database: no date object per row. SQLite
    stores a date as that text already."""

    output_field = CharField()
    template = "CAST(%(expressions)s AS TEXT)"

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template="TO_CHAR(%(expressions)s, 'YYYY-MM-DD')", **extra_context
        )


class DaysBetween(Func):
    """Whole days from the second date to the first, NULL when either is unknown."""

    arity = 2
    output_field = IntegerField()
    template = "CAST(JULIANDAY(%(expressions)s) AS INTEGER)"
    arg_joiner = ") - JULIANDAY("

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template="(%(expressions)s)", arg_joiner=" - ", **extra_context
        )


def days_in_review_sql(today):
    """``tracker.models.days_in_review`` in the query, in whole days: to ``today`` for a
    pending model, to its approval for a decided one; unknown without a submission date."""
    end = Case(
        When(status__in=PENDING_STATUSES, then=Value(today)),
        default=F("approved_on"),
        output_field=DateField(),
    )
    return DaysBetween(end, F("submitted_on"))


def model_rows(queryset, base_url, today=None):
    """The rows of MODEL_HEADER, every value made by the query: the rows come as the
    database sends them, with no date object or Python call per row (the export is timed
    against ``sqlite3 -csv``). ``days_in_review`` of a pending model counts to ``today``;
    whether an approval date is estimated is said only of a known date."""
    head, tail = _url_parts(base_url, "tracker:model_detail")
    return queryset.values_list(
        "filing_number",
        "name_zh",
        "name_en",
        "applicant__name_zh",
        "applicant__name_en",
        "applicant__jurisdiction__code",
        "filing_type",
        "scope",
        "sector",
        "status",
        IsoDate("submitted_on"),
        IsoDate("approved_on"),
        "batch__slug",
        days_in_review_sql(today or timezone.localdate()),
        Concat(Value(head), "slug", Value(tail), output_field=CharField()),
        Case(
            When(approved_on__isnull=False, then="approved_on_estimated"),
            output_field=BooleanField(),
        ),
        "seq_no",
        "upstream__filing_number",
        "on_device_scenario",
    ).iterator(chunk_size=CHUNK_SIZE)


def models_export(queryset, base_url, selection=""):
    return Export("models", MODEL_HEADER, model_rows(queryset, base_url), selection)


APPLICANT_HEADER = [
    "name_zh",
    "name_en",
    "jurisdiction",
    "kind",
    "website",
    "parent_zh",
    "parent_en",
    "models",
    *Status.values,
    "url",
]


def applicant_rows(queryset, base_url):
    """The rows of APPLICANT_HEADER, from ``Applicant.objects.for_listing()``."""
    applicant_url = url_maker(base_url, "tracker:applicant_detail")
    rows = queryset.values_list(
        "name_zh",
        "name_en",
        "jurisdiction__code",
        "kind",
        "website",
        "parent__name_zh",
        "parent__name_en",
        "n_models",
        *(f"n_{status}" for status in Status.values),
        "slug",
    ).iterator(chunk_size=CHUNK_SIZE)
    return ((*values, applicant_url(slug)) for *values, slug in rows)


def applicants_export(base_url):
    return Export(
        "applicants",
        APPLICANT_HEADER,
        applicant_rows(Applicant.objects.for_listing(), base_url),
    )


BATCH_HEADER = [
    "slug",
    "title_zh",
    "title_en",
    "announced_on",
    "announced_precision",
    "covers_until",
    "authority",
    "source_url",
    "reported_new",
    "reported_total",
    "reported_registrations_new",
    "reported_registrations_total",
    "description",
    "url",
]


def batch_rows(base_url):
    """Every batch, oldest first, in BATCH_HEADER's columns."""
    batch_url = url_maker(base_url, "tracker:batch_detail")
    rows = (
        Batch.objects.order_by("pk").values_list(*BATCH_HEADER[:-1]).iterator(chunk_size=CHUNK_SIZE)
    )
    return ((*values, batch_url(values[0])) for values in rows)


# A model's history, step by step: the public timeline of each model's page. Who recorded
# a step is staff information and stays out.
HISTORY_HEADER = [
    "model_url",
    "filing_number",
    "from_status",
    "to_status",
    "happened_on",
    "recorded_at",
    "note",
]


def history_rows(base_url):
    """Every step of every model's history, in the order they were written."""
    model_url = url_maker(base_url, "tracker:model_detail")
    rows = (
        StatusChange.objects.order_by("pk")
        .values_list(
            "model__slug",
            "model__filing_number",
            "from_status",
            "to_status",
            "happened_on",
            "recorded_at",
            "note",
        )
        .iterator(chunk_size=CHUNK_SIZE)
    )
    return ((model_url(slug), *values) for slug, *values in rows)


BACKLOG_HEADER = [
    "name_zh",
    "name_en",
    "applicant_zh",
    "applicant_en",
    "jurisdiction",
    "filing_type",
    "scope",
    "sector",
    "status",
    "submitted_on",
    "days_waiting",
    "url",
]


def backlog_rows(base_url):
    today = timezone.localdate()
    model_url = url_maker(base_url, "tracker:model_detail")
    rows = (
        AIModel.objects.backlog()
        .values_list(
            "name_zh",
            "name_en",
            "applicant__name_zh",
            "applicant__name_en",
            "applicant__jurisdiction__code",
            "filing_type",
            "scope",
            "sector",
            "status",
            "submitted_on",
            "slug",
        )
        .iterator(chunk_size=CHUNK_SIZE)
    )
    for *values, status, submitted_on, slug in rows:
        waiting = days_in_review(status, submitted_on, None, today)
        yield *values, status, submitted_on, waiting, model_url(slug)


def backlog_export(base_url):
    return Export("backlog", BACKLOG_HEADER, backlog_rows(base_url))


def published_rows(queryset):
    rows = queryset.values_list(
        "seq_no",
        "applicant__jurisdiction__name_zh",
        "name_zh",
        "name_en",
        "applicant__name_zh",
        "applicant__name_en",
        "filing_number",
        "approved_on",
        "on_device_scenario",
        "filing_type",
    ).iterator(chunk_size=CHUNK_SIZE)
    for seq_no, place, name_zh, name_en, applicant_zh, applicant_en, *rest in rows:
        yield (seq_no, place, name_zh or name_en, applicant_zh or applicant_en, *rest)


BATCH_LIST_HEADER = [*PUBLISHED_HEADER, ON_DEVICE_HEADER, "filing_type"]


def batch_export(batch):
    """A batch in the published layout, its tables in turn, with the on-device table's
    适用场景 and each row's type as last columns: the file imports back as it was, also
    a registration whose published number does not say what it is."""
    queryset = AIModel.objects.filter(batch=batch).order_by("sequence", "seq_no", "pk")
    return Export(f"batch-{batch.slug}", BATCH_LIST_HEADER, published_rows(queryset))
