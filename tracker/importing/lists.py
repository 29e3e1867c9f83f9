"""Importing a published CAC list: read, check every row, then write all of it or nothing.

The national CAC publishes each batch as six-column tables (序号, 属地, 模型名称, 备案单位,
备案号, 备案时间), with the later headers 大模型名称 and 备案编号, the registration tables'
应用/功能名称, 登记单位, 上线编号, 登记时间, and the on-device table's extra 适用场景. Each
row becomes an approved model in the chosen batch, with the step that entered it in its
history. Cells are read as extracted: the white space a line break leaves between Chinese
characters or beside a hyphen of a number is removed, and rows are matched against the
register ignoring white space, case and bracket widths, so the same list imported twice,
or extracted twice, changes nothing.

Used by the ``import_filings`` command and the admin import page alike.
"""

import calendar
import csv
import datetime
import io
import itertools
import re
import zipfile
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tracker import workflow
from tracker.analysis.exports import FORMULA_STARTS, ON_DEVICE_HEADER, PUBLISHED_HEADER, Export
from tracker.bulk import CHUNK_SIZE
from tracker.models import (
    APPROVED_STATUSES,
    PENDING_STATUSES,
    AIModel,
    Applicant,
    DatePrecision,
    FilingType,
    Jurisdiction,
    JurisdictionResolver,
    Sequence,
    Status,
    choice_label,
    sequence_of,
)
from tracker.numbers import number_problems, number_type
from tracker.text import clean_name, clean_number, has_chinese, match_key

FIELDS = ("seq_no", "jurisdiction", "model_name", "applicant", "filing_number", "filing_date")
# The on-device table's extra column, and the type column of this project's batch export.
OPTIONAL_FIELDS = ("on_device_scenario", "filing_type")
# Every header a published table has used for each column: the filing tables' (模型名称
# and 备案号 until 2025-01, 大模型名称 and 备案编号 from 2025-03) and the registration
# tables'. Without a number that says otherwise, the rows of a table headed with
# registration headers are registrations.
FILING_HEADERS = {
    "seq_no": ("序号",),
    "jurisdiction": ("属地",),
    "model_name": ("模型名称", "大模型名称"),
    "applicant": ("备案单位",),
    "filing_number": ("备案号", "备案编号"),
    "filing_date": ("备案时间",),
    "on_device_scenario": (ON_DEVICE_HEADER,),
}
REGISTRATION_HEADERS = {
    "model_name": ("应用/功能名称", "应用名称", "功能名称"),
    "applicant": ("登记单位",),
    "filing_number": ("上线编号", "登记编号"),
    "filing_date": ("登记时间",),
}
HEADERS = {
    **{name: key for key, names in FILING_HEADERS.items() for name in names},
    **{name: key for key, names in REGISTRATION_HEADERS.items() for name in names},
    **{name: name for name in (*FIELDS, *OPTIONAL_FIELDS)},
}
REGISTRATION_HEADER_NAMES = {name for names in REGISTRATION_HEADERS.values() for name in names}
# Notes the lists put in a date cell, and what they mean.
DATE_NOTES = {"补登": gettext_lazy("entered late")}
# Published lists often open with a title line or two before the header row.
HEADER_SEARCH_ROWS = 10
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_NAME_LENGTH = AIModel._meta.get_field("name_zh").max_length
MAX_NUMBER_LENGTH = AIModel._meta.get_field("filing_number").max_length

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_DATE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"
)
# A date cell's note in brackets: 2025/1/7 （补登）. NFKC made the brackets ASCII.
_DATE_NOTE = re.compile(r"(?P<date>.*?)\s*\((?P<note>[^()]*)\)")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_SEQ_NO = re.compile(r"\d{1,9}")
# How a company's or a university's name ends. A model cell that ends so, beside an
# applicant cell that ends like no organisation, makes a row whose cells look swapped.
COMPANY_ENDINGS = ("公司", "集团", "研究院", "研究所", "大学", "学院", "实验室")
# Applicants are also hospitals, broadcasters, government offices, associations…
INSTITUTION_ENDINGS = (
    *COMPANY_ENDINGS,
    "中心",
    "医院",
    "电视台",
    "报社",
    "出版社",
    "杂志社",
    "局",
    "办公室",
    "委员会",
    "协会",
    "学会",
    "联合会",
    "商会",
    "工会",
    "工作室",
    "银行",
    "合作社",
    "图书馆",
    "文化馆",
    "博物馆",
    "学校",
    "中学",
    "小学",
    "政府",
    "法院",
    "检察院",
)
_LATIN_ORGANISATION = re.compile(
    r"\b(co\.?,?\s*ltd|ltd|limited|inc|corp|corporation|llc|gmbh|group|university|"
    r"institute|laboratory)\.?$",
    re.IGNORECASE,
)


class ImportFileError(Exception):
    """The file as a whole cannot be read as a list; the message is meant for a person."""


@dataclass
class Row:
    number: int
    cells: dict
    seq_no: int | None = None
    model_name: str = ""
    applicant_name: str = ""
    filing_number: str = ""
    filing_date: datetime.date | None = None
    date_note: str = ""
    filing_type: str = FilingType.FILING
    on_device_scenario: str = ""
    swapped: bool = False
    jurisdiction: Jurisdiction | None = None
    problems: list = field(default_factory=list)
    # What was read otherwise than the cells say, for the history of the model.
    notices: list = field(default_factory=list)
    # What looks wrong in the row's number but is kept as published.
    flags: list = field(default_factory=list)
    action: str = ""
    existing_model: str = ""
    new_applicant: bool = False

    @property
    def ok(self):
        return not self.problems

    @property
    def sequence(self):
        return sequence_of(self.filing_type, self.on_device_scenario)

    @property
    def sequence_label(self):
        return choice_label(Sequence, self.sequence)

    def history_note(self, batch):
        """The note of the step that enters the row: where it was published, and what
        the import read otherwise than the cells say."""
        return " ".join([_("Published in %(batch)s.") % {"batch": batch}, *self.notices])


@dataclass
class ImportResult:
    rows: list
    dry_run: bool
    written: bool = False
    created_models: int = 0
    created_applicants: int = 0

    @property
    def bad_rows(self):
        return [row for row in self.rows if not row.ok]

    @property
    def to_create(self):
        return [row for row in self.rows if row.ok and row.action == "create"]

    @property
    def unchanged(self):
        return [row for row in self.rows if row.ok and row.action == "unchanged"]

    @property
    def new_applicant_names(self):
        return sorted({row.applicant_name for row in self.to_create if row.new_applicant})

    def problem_lines(self):
        return [
            _("Row %(row)s: %(problem)s") % {"row": row.number, "problem": problem}
            for row in self.bad_rows
            for problem in row.problems
        ]

    def notice_lines(self, rows=None):
        """What the import read otherwise than the cells say, or keeps although it looks
        wrong, for the rows it creates (or those of ``rows``)."""
        return [
            _("Row %(row)s: %(notice)s") % {"row": row.number, "notice": notice}
            for row in (self.to_create if rows is None else rows)
            for notice in (*row.notices, *row.flags)
        ]


# Reading ----------------------------------------------------------------------------------


def read_path(path):
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ImportFileError(
            _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc}
        ) from exc
    return data


def table_rows(data):
    """Yield (row number, list of cells) from CSV or XLSX bytes, whichever the content is."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(
            _("The file is larger than %(size)s MB; a published list is far smaller.")
            % {"size": MAX_FILE_BYTES // (1024 * 1024)}
        )
    if not data.strip():
        raise ImportFileError(_("The file is empty."))
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_rows(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            _("This is an old Excel (.xls) workbook: save it as .xlsx or CSV and try again.")
        )
    return _csv_rows(_decode(data))


def _decode(data):
    text = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None or "\x00" in text or len(_CONTROL.findall(text[:4096])) > 0:
        raise ImportFileError(
            _(
                "This is not a CSV file in UTF-8 or GB18030, nor an XLSX workbook "
                "(it looks like binary data)."
            )
        )
    return text


# The longest cell a list may hold: the csv module's default limit. The limit is the
# process's, and a library may raise it (frictionless does), so the rows are checked here too.
MAX_CELL_CHARS = 131_072


def _long_cell(number):
    return ImportFileError(
        _("Row %(row)s: a cell is longer than %(limit)s characters.")
        % {"row": number, "limit": MAX_CELL_CHARS}
    )


def _csv_rows(text):
    reader = csv.reader(io.StringIO(text, newline=""))
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise _long_cell(number + 1) from exc
            raise ImportFileError(
                _("Row %(row)s: not valid CSV (%(error)s).") % {"row": number + 1, "error": exc}
            ) from exc
        number += 1
        if any(len(cell) > MAX_CELL_CHARS for cell in cells):
            raise _long_cell(number)
        yield number, cells


def _xlsx_rows(data):
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportFileError(
            _("The file looks like a workbook but cannot be read as XLSX: %(error)s")
            % {"error": exc}
        ) from exc
    try:
        for number, cells in enumerate(workbook.active.iter_rows(values_only=True), 1):
            yield number, list(cells)
    finally:
        workbook.close()


def _text(value):
    """A cell as cleaned text (see ``clean_name``), with this project's own formula guard
    undone."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime):
        value = value.date()
    text = clean_name(value.isoformat() if isinstance(value, datetime.date) else value)
    if text.startswith("'") and text[1:2].startswith(FORMULA_STARTS):
        text = text[1:]
    return text


def _header_key(value):
    text = _text(value)
    return HEADERS.get(text.lower().replace(" ", "_")) or HEADERS.get(text.replace(" ", ""))


def parse(data, filing_type=None, unswap=False):
    """Rows of the list in ``data``, each with the problems that need no database to find.

    Each row's type is ``filing_type`` when given, otherwise what its number says, and for
    a number that says neither, what the table's header says. With ``unswap``, a row whose
    model and applicant cells look swapped is read the other way round, with a notice;
    otherwise it is refused.
    """
    rows_iter = table_rows(data)
    columns = None
    for number, cells in rows_iter:
        keys = [_header_key(value) for value in cells]
        if sum(1 for key in keys if key) >= 3:
            columns = keys
            registration_table = any(
                _text(value).replace(" ", "") in REGISTRATION_HEADER_NAMES for value in cells
            )
            break
        if number >= HEADER_SEARCH_ROWS:
            break
    if columns is None:
        raise ImportFileError(
            _(
                "No header row found in the first %(n)s rows. The list needs the columns "
                "%(zh)s (or %(en)s)."
            )
            % {"n": HEADER_SEARCH_ROWS, "zh": ", ".join(PUBLISHED_HEADER), "en": ", ".join(FIELDS)}
        )
    missing = [zh for zh, key in zip(PUBLISHED_HEADER, FIELDS, strict=True) if key not in columns]
    if missing:
        raise ImportFileError(
            _("Row %(row)s: the header lacks the columns %(missing)s.")
            % {"row": number, "missing": ", ".join(missing)}
        )
    rows = []
    for number, cells in rows_iter:
        values = {key: value for key, value in zip(columns, cells, strict=False) if key}
        if all(value is None or not str(value).strip() for value in cells):
            continue
        table_type = FilingType.REGISTRATION if registration_table else FilingType.FILING
        rows.append(_parse_row(number, values, filing_type, table_type, unswap))
    if not rows:
        raise ImportFileError(_("The file has a header row but no rows below it."))
    return rows


def _parse_row(number, values, filing_type, table_type, unswap):
    cells = {key: _text(values.get(key)) for key in (*FIELDS, *OPTIONAL_FIELDS)}
    cells["filing_number"] = clean_number(cells["filing_number"])
    row = Row(number=number, cells=cells)
    if _SEQ_NO.fullmatch(cells["seq_no"]):
        row.seq_no = int(cells["seq_no"])
    elif cells["seq_no"]:
        row.problems.append(
            _("the 序号 “%(seq)s” is not a number.") % {"seq": cells["seq_no"][:20]}
        )
    row.model_name = cells["model_name"]
    row.applicant_name = cells["applicant"]
    row.filing_number = cells["filing_number"]
    row.on_device_scenario = cells["on_device_scenario"]
    problems = row.problems
    _set_type(row, filing_type, table_type)
    if not row.model_name:
        problems.append(_("the model name is empty."))
    elif len(row.model_name) > MAX_NAME_LENGTH:
        problems.append(
            _("the model name is longer than %(n)s characters.") % {"n": MAX_NAME_LENGTH}
        )
    if not row.applicant_name:
        problems.append(_("the applicant is empty."))
    elif len(row.applicant_name) > MAX_NAME_LENGTH:
        problems.append(
            _("the applicant is longer than %(n)s characters.") % {"n": MAX_NAME_LENGTH}
        )
    if len(row.filing_number) > MAX_NUMBER_LENGTH:
        problems.append(
            _("the filing number is longer than %(n)s characters.") % {"n": MAX_NUMBER_LENGTH}
        )
    if looks_swapped(row.model_name, row.applicant_name):
        if unswap:
            row.swapped = True
            row.model_name, row.applicant_name = row.applicant_name, row.model_name
            row.notices.append(
                _(
                    "The list has the model and the applicant in each other's columns; "
                    "read as model “%(model)s” of “%(applicant)s”."
                )
                % {"model": row.model_name, "applicant": row.applicant_name}
            )
        else:
            problems.append(
                _(
                    "the model and applicant columns look swapped: the model name “%(model)s” "
                    "looks like an organisation."
                )
                % {"model": row.model_name}
            )
    _parse_date(row, values.get("filing_date"))
    return row


def _set_type(row, filing_type, table_type):
    """The row's type: as asked (for the file, or in the row's own type column), else as its
    number says, else as its table's header says."""
    given = row.cells["filing_type"]
    if given and given not in FilingType.values:
        row.problems.append(
            _("the type “%(type)s” is not filing or registration.") % {"type": given[:20]}
        )
    elif given and filing_type and given != filing_type:
        row.problems.append(
            _("the row's type “%(given)s” is not the %(type)s the list was imported as.")
            % {"given": given, "type": choice_label(FilingType, filing_type).lower()}
        )
    elif given:
        filing_type = given
    said = number_type(row.filing_number)
    if filing_type and said and said != filing_type:
        row.problems.append(
            _("the number %(number)s is a %(said)s number, but the list was imported as %(type)s.")
            % {
                "number": row.filing_number,
                "said": choice_label(FilingType, said).lower(),
                "type": choice_label(FilingType, filing_type).lower(),
            }
        )
    elif not filing_type and said and said != table_type:
        row.notices.append(
            _("The number %(number)s is a %(said)s number in a table of %(table)s.")
            % {
                "number": row.filing_number,
                "said": choice_label(FilingType, said).lower(),
                "table": choice_label(Sequence, table_type).lower(),
            }
        )
    row.filing_type = filing_type or said or table_type
    if row.on_device_scenario and row.filing_type == FilingType.REGISTRATION:
        row.problems.append(_("a registration has no on-device scenario (适用场景)."))


def _parse_date(row, value):
    if isinstance(value, datetime.datetime):
        row.filing_date = value.date()
    elif isinstance(value, datetime.date):
        row.filing_date = value
    else:
        text = row.cells["filing_date"]
        if note := _DATE_NOTE.fullmatch(text):
            text, row.date_note = note["date"], note["note"].strip()
            if row.date_note not in DATE_NOTES:
                # Another note (已注销: cancelled…) may say the row is no plain approval.
                row.problems.append(
                    _("the date cell's note “%(note)s” is not one the lists use: check the row.")
                    % {"note": row.date_note[:40]}
                )
                return
            row.notices.append(
                _("The list dates it “%(date)s” with the note “%(note)s” (%(meaning)s).")
                % {"date": text, "note": row.date_note, "meaning": DATE_NOTES[row.date_note]}
            )
        if not text:
            row.problems.append(_("the filing date is empty."))
            return
        match = _DATE.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
        try:
            row.filing_date = datetime.date(*(int(part) for part in match.groups()))
        except (AttributeError, ValueError):
            row.problems.append(_("the filing date “%(date)s” is not a date.") % {"date": text})
            return
    if row.filing_date > timezone.localdate():
        row.problems.append(
            _("the filing date %(date)s is in the future.") % {"date": row.filing_date}
        )


def looks_like_organisation(name, endings=INSTITUTION_ENDINGS):
    """Whether ``name`` ends as an organisation's does (one of ``endings``, or a Latin
    company form as a word of its own)."""
    name = name.rstrip(" .)）")
    return name.endswith(endings) or bool(_LATIN_ORGANISATION.search(name))


def looks_swapped(model_name, applicant_name):
    """Whether a row's model cell holds a company and its applicant cell something else."""
    return looks_like_organisation(model_name, COMPANY_ENDINGS) and not looks_like_organisation(
        applicant_name
    )


# Checking against the register ------------------------------------------------------------


@dataclass
class _Known:
    pk: int
    number_key: str
    applicant_id: int
    status: str
    label: str


class _Register:
    """What the import needs to know of the register: the applicants the list names and
    the models it could match, by filing number, by name or by 序号, read in chunks."""

    def __init__(self, rows):
        named = {row.applicant_name for row in rows if row.applicant_name}
        self.applicants = {}
        self.applicant_names = {}
        # Applicants are matched on their key (the Chinese name, whatever its spaces) or on
        # their English name in any case.
        for chunk in itertools.batched(named, CHUNK_SIZE):
            found = (
                Applicant.objects.annotate(name_en_folded=Lower("name_en"))
                .filter(
                    (Q(name_key__in=[match_key(name) for name in chunk]) & ~Q(name_key=""))
                    | (Q(name_en_folded__in=[name.casefold() for name in chunk]) & ~Q(name_en=""))
                )
                .order_by()
            )
            for pk, name_zh, name_en, slug in found.values_list("pk", "name_zh", "name_en", "slug"):
                self.applicant_names[pk] = (name_zh, name_en)
                for name in (name_zh, name_en):
                    if name:
                        self.applicants[match_key(name)] = (pk, slug)
        self.by_number = {}
        self.by_name = {}
        self.by_seq = {}
        numbers = {match_key(row.filing_number) for row in rows if row.filing_number}
        names = {row.model_name for row in rows if row.model_name}
        seq_nos = {}
        for row in rows:
            if row.seq_no is not None:
                seq_nos.setdefault(row.sequence, set()).add(row.seq_no)
        wanted = [
            Q(number_key__in=chunk) & ~Q(number_key="")
            for chunk in itertools.batched(numbers, CHUNK_SIZE)
        ] + [
            # A model's key is its main name's; the English name of a model that has both
            # is matched as it is.
            Q(applicant_id__in=ids)
            & (
                (Q(name_key__in=[match_key(name) for name in chunk]) & ~Q(name_key=""))
                | (Q(name_en__in=chunk) & ~Q(name_en=""))
            )
            for ids in itertools.batched(self.applicant_names, CHUNK_SIZE)
            for chunk in itertools.batched(names, CHUNK_SIZE)
        ]
        columns = (
            "pk",
            "number_key",
            "applicant_id",
            "filing_type",
            "name_key",
            "name_zh",
            "name_en",
            "status",
        )
        for condition in wanted:
            # No ordering: the listing's default order would make the database scan the
            # table in that order instead of looking the keys up.
            found = AIModel.objects.filter(condition).order_by().values_list(*columns)
            for pk, number_key, applicant_id, kind, name_key, name_zh, name_en, status in found:
                known = _Known(pk, number_key, applicant_id, status, name_zh or name_en)
                if number_key:
                    self.by_number[number_key] = known
                for key in {name_key, match_key(name_en)} - {""}:
                    self.by_name[(applicant_id, kind, key)] = known
        for sequence, wanted_seq in seq_nos.items():
            for chunk in itertools.batched(wanted_seq, CHUNK_SIZE):
                found = (
                    AIModel.objects.filter(sequence=sequence, seq_no__in=chunk)
                    .order_by()
                    .values_list("pk", "seq_no", "name_zh", "name_en")
                )
                for pk, seq_no, name_zh, name_en in found:
                    self.by_seq[(sequence, seq_no)] = (pk, name_zh or name_en)


def latest_listed_date(batch):
    """The latest filing date a row of ``batch``'s list can hold: the day the list was
    announced, or the last day of its month when only the month is known.

    A list names filings made before it was published, so a later date means a misread
    cell or the wrong batch. A batch known to the month is stored on the month's first
    day, and its list holds later days of that month (the 2024-11, 2025-06 and 2025-10
    lists do). ``covers_until`` is not the limit: it is the as-of date of the announced
    totals, unknown for many batches.
    """
    announced = batch.announced_on
    if batch.announced_precision == DatePrecision.MONTH:
        last_day = calendar.monthrange(announced.year, announced.month)[1]
        return announced.replace(day=last_day)
    return announced


def _check(rows, register, resolver, batch):
    seen_numbers = {}
    seen_models = {}
    seen_seq = {}
    latest = latest_listed_date(batch)
    for row in rows:
        if row.filing_date is not None and row.filing_date > latest:
            row.problems.append(
                _(
                    "the filing date %(date)s is after %(batch)s was announced (%(announced)s): "
                    "is this the list of another batch?"
                )
                % {"date": row.filing_date, "batch": batch, "announced": batch.announced_label}
            )
        row.jurisdiction = resolver.resolve(row.cells["jurisdiction"], row.filing_number)
        if row.cells["jurisdiction"] and row.jurisdiction is None:
            row.problems.append(
                _("the jurisdiction “%(name)s” is unknown.") % {"name": row.cells["jurisdiction"]}
            )
        if row.filing_number:
            number = match_key(row.filing_number)
            if number in seen_numbers:
                row.problems.append(
                    _("the filing number %(number)s is also in row %(row)s.")
                    % {"number": row.filing_number, "row": seen_numbers[number]}
                )
            seen_numbers.setdefault(number, row.number)
        if row.seq_no is not None:
            key = (row.sequence, row.seq_no)
            if key in seen_seq:
                row.problems.append(
                    _("序号 %(seq)s of the %(sequence)s is also in row %(row)s.")
                    % {
                        "seq": row.seq_no,
                        "sequence": choice_label(Sequence, row.sequence).lower(),
                        "row": seen_seq[key],
                    }
                )
            seen_seq.setdefault(key, row.number)
        key = (match_key(row.applicant_name), row.filing_type, match_key(row.model_name))
        if row.model_name and key in seen_models:
            row.problems.append(
                _("the same model of the same applicant is also in row %(row)s.")
                % {"row": seen_models[key]}
            )
        seen_models.setdefault(key, row.number)
        if row.ok:
            _match(row, register)
        if row.ok and row.action == "create":
            row.flags = number_problems(row.filing_number, row.filing_type, resolver.region_tokens)


def _match(row, register):
    applicant = register.applicants.get(match_key(row.applicant_name))
    row.new_applicant = applicant is None
    applicant_id = applicant[0] if applicant else None
    number = match_key(row.filing_number)
    by_number = register.by_number.get(number) if number else None
    name = (applicant_id, row.filing_type, match_key(row.model_name))
    by_name = register.by_name.get(name) if applicant else None
    if by_number and (by_name is None or by_number.pk != by_name.pk):
        row.problems.append(
            _("the filing number %(number)s already belongs to another model, “%(model)s”.")
            % {"number": row.filing_number, "model": by_number.label}
        )
        return
    known = by_number or by_name
    seq_holder = register.by_seq.get((row.sequence, row.seq_no))
    if seq_holder and (known is None or seq_holder[0] != known.pk):
        row.problems.append(
            _("序号 %(seq)s of the %(sequence)s already belongs to another model, “%(model)s”.")
            % {
                "seq": row.seq_no,
                "sequence": choice_label(Sequence, row.sequence).lower(),
                "model": seq_holder[1],
            }
        )
        return
    if known is None:
        row.action = "create"
        return
    if number and known.number_key and known.number_key != number:
        row.problems.append(
            _("“%(model)s” is already in the register with another filing number.")
            % {"model": known.label}
        )
    elif known.status in PENDING_STATUSES:
        row.problems.append(
            _(
                "“%(model)s” is in the register as a pending submission (%(status)s): "
                "approve it in the admin instead."
            )
            % {"model": known.label, "status": Status(known.status).label}
        )
    elif known.status not in APPROVED_STATUSES:
        row.problems.append(
            _(
                "“%(model)s” is in the register as %(status)s, which the published approval "
                "contradicts: check it and correct it in the admin."
            )
            % {"model": known.label, "status": Status(known.status).label}
        )
    else:
        row.action = "unchanged"
        row.existing_model = known.label


# Writing ----------------------------------------------------------------------------------


def _split_name(name):
    """The published name goes in the Chinese field unless it has no Chinese in it."""
    return (name, "") if has_chinese(name) else ("", name)


def _enter_approved(rows, register, *, batch, by):
    """Create the rows' new applicants, then their approved models through the workflow:
    the same rules as one saved in the admin, in a few statements."""
    new_applicants = {}
    for row in rows:
        key = match_key(row.applicant_name)
        if row.new_applicant and key not in new_applicants:
            name_zh, name_en = _split_name(row.applicant_name)
            new_applicants[key] = Applicant(
                name_zh=name_zh, name_en=name_en, jurisdiction=row.jurisdiction
            )
    Applicant.objects.create_many(new_applicants.values())
    # The applicants the rows name, with what the models' slugs and search text need.
    applicants = {
        key: Applicant(
            pk=pk,
            slug=slug,
            name_zh=register.applicant_names[pk][0],
            name_en=register.applicant_names[pk][1],
        )
        for key, (pk, slug) in register.applicants.items()
    }
    applicants.update(new_applicants)
    entries = []
    for row in rows:
        name_zh, name_en = _split_name(row.model_name)
        ai_model = AIModel(
            name_zh=name_zh,
            name_en=name_en,
            applicant=applicants[match_key(row.applicant_name)],
            filing_type=row.filing_type,
            filing_number=row.filing_number,
            approved_on=row.filing_date,
            batch=batch,
            seq_no=row.seq_no,
            on_device_scenario=row.on_device_scenario,
        )
        entries.append((ai_model, row.history_note(batch)))
    workflow.enter_published(entries, by=by)
    return len(entries), len(new_applicants)


def import_list(
    data,
    *,
    batch,
    filing_type=None,
    by=None,
    dry_run=False,
    skip_invalid=False,
    unswap=False,
):
    """Check the list in ``data`` (bytes) and, unless told not to, write it into ``batch``.

    Each row is a filing or a registration as its number says, unless ``filing_type`` is
    given. Nothing is written when ``dry_run`` is set, or when any row has a problem and
    ``skip_invalid`` is not set. With ``unswap``, rows whose model and applicant cells are
    swapped are read the other way round (and say so) instead of refused. Raises
    ``ImportFileError`` when the file cannot be read as a list at all.
    """
    if filing_type and filing_type not in FilingType.values:
        raise ImportFileError(_("“%(type)s” is not a filing type.") % {"type": filing_type})
    rows = parse(data, filing_type=filing_type, unswap=unswap)
    result = ImportResult(rows=rows, dry_run=dry_run)
    with transaction.atomic():
        register = _Register(rows)
        _check(rows, register, JurisdictionResolver(), batch)
        if dry_run or (result.bad_rows and not skip_invalid):
            return result
        try:
            result.created_models, result.created_applicants = _enter_approved(
                result.to_create, register, batch=batch, by=by
            )
        except IntegrityError as exc:
            raise ImportFileError(
                _("The database refused the import, nothing was written: %(error)s")
                % {"error": exc}
            ) from exc
    result.written = True
    return result


REJECTED_HEADER = [*PUBLISHED_HEADER, ON_DEVICE_HEADER, "filing_type", "row", "problems"]


def rejected_export(result):
    """The rows that were not imported, with the reasons, in a file that can be fixed and
    imported again."""
    return Export(
        "rejected",
        REJECTED_HEADER,
        (
            (
                *(row.cells[key] for key in (*FIELDS, *OPTIONAL_FIELDS)),
                row.number,
                " ".join(row.problems),
            )
            for row in result.bad_rows
        ),
    )
