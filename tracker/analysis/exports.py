"""The one CSV writer, and the exports built on it.

Every CSV the project serves or writes (listing exports, reports, the admin action, the
``export_csv`` command, the importer's rejected rows) goes through ``csv_written``: UTF-8 with
a byte-order mark so Excel reads Chinese, one header row, ISO dates, empty cells for unknown
values, and text that a spreadsheet would run as a formula prefixed with ``'``.

Rows come from ``values_list(...).iterator()`` and are written in chunks, so an export of
any size runs in constant memory. ``cell`` makes a value a cell; the models export, the
largest, has the query make its cells instead (``Cell``, the same rule in SQL) and writes
the rows in the chunks the database sends.
"""

import csv
import datetime
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connections
from django.db.models import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    F,
    FloatField,
    Func,
    IntegerField,
    TextField,
    Value,
)
from django.db.models.sql.constants import MULTI
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header

from tracker.bulk import CHUNK_SIZE
from tracker.languages import neutral_path
from tracker.models import (
    AIModel,
    Applicant,
    Batch,
    Status,
    StatusChange,
    approval_estimated,
    days_in_review,
    review_end,
)

BOM = "\ufeff"
CHUNK_ROWS = 500
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_CHARS = frozenset(FORMULA_STARTS)
NUMBER_FIELDS = IntegerField | FloatField

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


TRUE, FALSE = "true", "false"
GUARD = "'"


def cell(value):
    """One value as a CSV cell: numbers stay numbers, text is guarded against formulas.
    ``Cell`` is the same rule written by the database."""
    # Text and empty cells first: they are most of every export, which calls this per cell.
    if type(value) is str:
        return GUARD + value if value and value[0] in FORMULA_CHARS else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return TRUE if value else FALSE
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return GUARD + text
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


def csv_written(header, cell_chunks):
    """Yield the CSV file as encoded chunks, one per chunk of rows whose values are
    cells already (``cell``'s or ``Cell``'s)."""
    lines = _Lines([BOM])
    writer = csv.writer(lines)
    writer.writerow(header)
    for rows in cell_chunks:
        writer.writerows(rows)
        yield lines.take()
    if lines:
        yield lines.take()


class _Lines(list):
    """What a csv writer writes, kept as a list of lines until taken as one chunk."""

    write = list.append

    def take(self):
        chunk = "".join(self).encode("utf-8")
        self.clear()
        return chunk


def csv_chunks(header, rows, chunk_rows=CHUNK_ROWS):
    """Yield the CSV file as encoded chunks of ``chunk_rows`` rows each."""
    return csv_written(header, (map(_cells, rows) for rows in itertools.batched(rows, chunk_rows)))


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


class QueryExport(Export):
    """An export whose ``rows`` come as chunks of cells the query wrote (``Cell``)."""

    def chunks(self):
        return csv_written(self.header, self.rows)


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


class DatabaseInteger(Func):
    """An integer the database computes and sends as one: no converter runs per row, as
    Django's ``int()`` of every value of an integer expression would."""

    output_field = IntegerField()
    template = "CAST(%(expressions)s AS INTEGER)"

    def get_db_converters(self, connection):
        return []


class DaysBetween(DatabaseInteger):
    """Whole days from the second date to the first, NULL when either is unknown."""

    arity = 2
    template = "CAST(JULIANDAY(%(expressions)s) AS INTEGER)"
    arg_joiner = ") - JULIANDAY("

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template="(%(expressions)s)", arg_joiner=" - ", **extra_context
        )


class Joined(Func):
    """Text pieces joined by the database, none of which is ever NULL (``Concat`` guards
    each against NULL)."""

    template = "(%(expressions)s)"
    arg_joiner = " || "
    output_field = CharField()


class Cell(Func):
    """``cell`` in SQL: a value as the CSV cell, written by the database, so that an
    export's rows go to the writer as they come (the export is timed against
    ``sqlite3 -csv``). Text is guarded against formulas, a boolean is ``true`` or
    ``false``, a date its ISO text, a number stays a number, and unknown stays NULL,
    which the writer leaves empty."""

    arity = 1

    def _resolve_output_field(self):
        field = self.source_expressions[0].output_field
        return field if isinstance(field, NUMBER_FIELDS) else CharField()

    def as_sql(self, compiler, connection, **extra_context):
        source = self.source_expressions[0]
        field = source.output_field
        if isinstance(field, DateField) and not isinstance(field, DateTimeField):
            return compiler.compile(IsoDate(source))
        sql, params = compiler.compile(source)
        if isinstance(field, NUMBER_FIELDS) or _never_guarded(source):
            return sql, params
        if isinstance(field, BooleanField):
            return f"CASE {sql} WHEN %s THEN %s WHEN %s THEN %s END", [
                *params,
                True,
                TRUE,
                False,
                FALSE,
            ]
        if isinstance(field, CharField | TextField):
            return self.guarded(sql, params, connection.vendor)
        raise TypeError(f"A {type(field).__name__} has no CSV cell in SQL: write it with cell().")

    @staticmethod
    def guarded(sql, params, vendor):
        """Text with ``GUARD`` before it when it starts with one of FORMULA_STARTS, told on
        SQLite by the first character's code point (no substring made per value)."""
        if vendor == "sqlite":
            first, starts = f"UNICODE({sql})", [ord(start) for start in FORMULA_STARTS]
        else:
            first, starts = f"SUBSTR({sql}, 1, 1)", list(FORMULA_STARTS)
        placeholders = ", ".join(["%s"] * len(starts))
        return (
            f"CASE WHEN {first} IN ({placeholders}) THEN %s || {sql} ELSE {sql} END",
            [*params, *starts, GUARD, *params, *params],
        )


def _never_guarded(expression):
    """Whether no value of ``expression`` can start as a formula does: text joined to the
    end of a known text that does not (an address)."""
    if not isinstance(expression, Joined):
        return False
    first = expression.source_expressions[0]
    return isinstance(first, Value) and not str(first.value).startswith(FORMULA_STARTS)


def query_chunks(queryset, chunk_rows=CHUNK_ROWS):
    """The rows of a ``values_list`` queryset in lists of ``chunk_rows``, as the database
    sends them: no Python runs per row (no field converters, which ``Cell`` columns do
    not need). PostgreSQL reads them through a server-side cursor unless the database's
    settings disable those, as ``iterator()`` does."""
    # A generator: the query runs when the first chunk is read (never for a HEAD request
    # or a reader gone before it), and closing it closes the cursor.
    settings_dict = connections[queryset.db].settings_dict
    compiler = queryset.query.get_compiler(using=queryset.db)
    yield from compiler.execute_sql(
        MULTI,
        chunked_fetch=not settings_dict.get("DISABLE_SERVER_SIDE_CURSORS"),
        chunk_size=chunk_rows,
    )


def days_in_review_sql(today):
    """``tracker.models.days_in_review`` in the query, in whole days (NULL when unknown)."""
    return DaysBetween(review_end(today), F("submitted_on"))


def _model_columns(base_url, today):
    """MODEL_HEADER's values, each made by the query. ``days_in_review`` of a pending
    model counts to ``today``; whether an approval date is estimated is said only of a
    known date."""
    head, tail = _url_parts(base_url, "tracker:model_detail")
    return [
        F("filing_number"),
        F("name_zh"),
        F("name_en"),
        F("applicant__name_zh"),
        F("applicant__name_en"),
        F("applicant__jurisdiction__code"),
        F("filing_type"),
        F("scope"),
        F("sector"),
        F("status"),
        F("submitted_on"),
        F("approved_on"),
        F("batch__slug"),
        days_in_review_sql(today or timezone.localdate()),
        Joined(Value(head), "slug", Value(tail)),
        approval_estimated(),
        F("seq_no"),
        F("upstream__filing_number"),
        F("on_device_scenario"),
    ]


def model_rows(queryset, base_url, today=None):
    """The rows of MODEL_HEADER, as values (the bulk download's JSON Lines)."""
    columns = _model_columns(base_url, today)
    return queryset.values_list(*columns).iterator(chunk_size=CHUNK_SIZE)


def model_cells(queryset, base_url, today=None):
    """The rows of MODEL_HEADER as chunks of CSV cells, every cell written by the query:
    no Python runs per row or value (the export is timed against ``sqlite3 -csv``)."""
    columns = _model_columns(base_url, today)
    return query_chunks(queryset.values_list(*map(Cell, columns)))


def models_export(queryset, base_url, selection=""):
    return QueryExport("models", MODEL_HEADER, model_cells(queryset, base_url), selection)


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
