"""Importing a published CAC list: read, check every row, then write all of it or nothing.

The national CAC publishes each batch as a six-column list (序号, 属地, 模型名称, 备案单位,
备案号, 备案时间). Each row becomes an approved model in the chosen batch, with the step
that entered it in its history. The same file imported twice changes nothing: a row whose
model is already in the register is left alone.

Used by the ``import_filings`` command and the admin import page alike.
"""

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

from . import workflow
from .bulk import CHUNK_SIZE, insert_many
from .exports import FORMULA_STARTS, PUBLISHED_HEADER, Export
from .models import (
    APPROVED_STATUSES,
    PENDING_STATUSES,
    AIModel,
    Applicant,
    FilingType,
    Jurisdiction,
    JurisdictionResolver,
    Status,
    search_text,
)
from .text import normalise_name, numbered_slugs, slug_base

FIELDS = ("seq_no", "jurisdiction", "model_name", "applicant", "filing_number", "filing_date")
HEADERS = {
    **dict(zip(PUBLISHED_HEADER, FIELDS, strict=True)),
    **{name: name for name in FIELDS},
}
# Published lists often open with a title line or two before the header row.
HEADER_SEARCH_ROWS = 10
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_NAME_LENGTH = AIModel._meta.get_field("name_zh").max_length
MAX_NUMBER_LENGTH = AIModel._meta.get_field("filing_number").max_length

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_DATE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"
)
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
ORGANISATION_ENDINGS = (
    "公司",
    "研究院",
    "研究所",
    "研究中心",
    "实验室",
    "中心",
    "大学",
    "学院",
    "集团",
    "co., ltd",
    "co.,ltd",
    "co. ltd",
    "ltd",
    "limited",
    "inc",
    "corp",
    "corporation",
    "llc",
    "gmbh",
    "group",
    "university",
    "institute",
    "laboratory",
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
    jurisdiction: Jurisdiction | None = None
    problems: list = field(default_factory=list)
    action: str = ""
    existing_model: str = ""
    new_applicant: bool = False

    @property
    def ok(self):
        return not self.problems


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
                raise ImportFileError(
                    _("Row %(row)s: a cell is longer than %(limit)s characters.")
                    % {"row": number + 1, "limit": csv.field_size_limit()}
                ) from exc
            raise ImportFileError(
                _("Row %(row)s: not valid CSV (%(error)s).") % {"row": number + 1, "error": exc}
            ) from exc
        number += 1
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
    """A cell as normalised text, with this project's own formula guard undone."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime):
        value = value.date()
    text = normalise_name(value.isoformat() if isinstance(value, datetime.date) else value)
    if text.startswith("'") and text[1:2].startswith(FORMULA_STARTS):
        text = text[1:]
    return text


def _header_key(value):
    key = _text(value).lower().replace(" ", "_")
    return HEADERS.get(key)


def parse(data):
    """Rows of the list in ``data``, each with the problems that need no database to find."""
    rows_iter = table_rows(data)
    columns = None
    for number, cells in rows_iter:
        keys = [_header_key(value) for value in cells]
        if sum(1 for key in keys if key) >= 3:
            columns = keys
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
        rows.append(_parse_row(number, values))
    if not rows:
        raise ImportFileError(_("The file has a header row but no rows below it."))
    return rows


def _parse_row(number, values):
    cells = {key: _text(values.get(key)) for key in FIELDS}
    row = Row(number=number, cells=cells)
    digits = re.sub(r"\D", "", cells["seq_no"])
    row.seq_no = int(digits) if digits and len(digits) < 10 else None
    row.model_name = cells["model_name"]
    row.applicant_name = cells["applicant"]
    row.filing_number = cells["filing_number"]
    problems = row.problems
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
    if looks_like_organisation(row.model_name) and not looks_like_organisation(row.applicant_name):
        problems.append(
            _(
                "the model and applicant columns look swapped: the model name “%(model)s” "
                "looks like an organisation."
            )
            % {"model": row.model_name}
        )
    _parse_date(row, values.get("filing_date"))
    return row


def _parse_date(row, value):
    if isinstance(value, datetime.datetime):
        row.filing_date = value.date()
    elif isinstance(value, datetime.date):
        row.filing_date = value
    else:
        text = row.cells["filing_date"]
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


def looks_like_organisation(name):
    folded = name.casefold().rstrip(" .)）")
    return folded.endswith(ORGANISATION_ENDINGS)


# Checking against the register ------------------------------------------------------------


@dataclass
class _Known:
    pk: int
    filing_number: str
    applicant_id: int
    names: tuple
    status: str
    label: str


def _named(names):
    """Rows whose Chinese or English name is among ``names``.

    The names are unique where they are not empty, and the database reads those partial
    indexes only when the query states that condition too.
    """
    return (Q(name_zh__in=names) & ~Q(name_zh="")) | (Q(name_en__in=names) & ~Q(name_en=""))


class _Register:
    """What the import needs to know of the register: the applicants the list names and
    the models it could match, by filing number or by name, read in chunks."""

    def __init__(self, rows):
        names = {row.applicant_name for row in rows if row.applicant_name}
        self.applicants = {}
        self.applicant_names = {}
        # Applicants are matched on names in any case: "ACME LTD" is "Acme Ltd".
        for chunk in itertools.batched(names, CHUNK_SIZE):
            found = (
                Applicant.objects.annotate(name_en_folded=Lower("name_en"))
                .filter(
                    (Q(name_zh__in=chunk) & ~Q(name_zh=""))
                    | Q(name_en_folded__in=[name.casefold() for name in chunk])
                )
                .order_by()
            )
            for pk, name_zh, name_en, slug in found.values_list("pk", "name_zh", "name_en", "slug"):
                self.applicant_names[pk] = (name_zh, name_en)
                for name in (name_zh, name_en):
                    if name:
                        self.applicants[name.casefold()] = (pk, slug)
        self.by_number = {}
        self.by_name = {}
        numbers = {row.filing_number for row in rows if row.filing_number}
        model_names = {row.model_name for row in rows if row.model_name}
        wanted = [
            Q(filing_number__in=chunk) & ~Q(filing_number="")
            for chunk in itertools.batched(numbers, CHUNK_SIZE)
        ] + [
            Q(applicant_id__in=ids) & _named(chunk)
            for ids in itertools.batched(self.applicant_names, CHUNK_SIZE)
            for chunk in itertools.batched(model_names, CHUNK_SIZE)
        ]
        columns = ("pk", "filing_number", "applicant_id", "name_zh", "name_en", "status")
        for condition in wanted:
            # No ordering: the listing's default order would make the database scan the
            # table in that order instead of looking the names up.
            found = AIModel.objects.filter(condition).order_by().values_list(*columns)
            for pk, number, applicant_id, name_zh, name_en, status in found:
                known = _Known(
                    pk, number, applicant_id, (name_zh, name_en), status, name_zh or name_en
                )
                if number:
                    self.by_number[number] = known
                for name in (name_zh, name_en):
                    if name:
                        self.by_name[(applicant_id, name)] = known


def _check(rows, register, resolver):
    seen_numbers = {}
    seen_models = {}
    for row in rows:
        row.jurisdiction = resolver.resolve(row.cells["jurisdiction"], row.filing_number)
        if row.cells["jurisdiction"] and row.jurisdiction is None:
            row.problems.append(
                _("the jurisdiction “%(name)s” is unknown.") % {"name": row.cells["jurisdiction"]}
            )
        if row.filing_number:
            if row.filing_number in seen_numbers:
                row.problems.append(
                    _("the filing number %(number)s is also in row %(row)s.")
                    % {"number": row.filing_number, "row": seen_numbers[row.filing_number]}
                )
            seen_numbers.setdefault(row.filing_number, row.number)
        key = (row.applicant_name.casefold(), row.model_name)
        if row.model_name and key in seen_models:
            row.problems.append(
                _("the same model of the same applicant is also in row %(row)s.")
                % {"row": seen_models[key]}
            )
        seen_models.setdefault(key, row.number)
        if row.ok:
            _match(row, register)


def _match(row, register):
    applicant = register.applicants.get(row.applicant_name.casefold())
    row.new_applicant = applicant is None
    applicant_id = applicant[0] if applicant else None
    by_number = register.by_number.get(row.filing_number) if row.filing_number else None
    by_name = register.by_name.get((applicant_id, row.model_name)) if applicant else None
    if by_number and by_number is not by_name:
        row.problems.append(
            _("the filing number %(number)s already belongs to another model, “%(model)s”.")
            % {"number": row.filing_number, "model": by_number.label}
        )
        return
    known = by_number or by_name
    if known is None:
        row.action = "create"
        return
    if row.filing_number and known.filing_number and known.filing_number != row.filing_number:
        row.problems.append(
            _("“%(model)s” is already in the register with the filing number %(number)s.")
            % {"model": known.label, "number": known.filing_number}
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


class _Slugs:
    """``tracker.text.unique_slug`` for thousands of new rows: the slugs in use are looked
    up once for all the rows' bases, and again only for a base that is taken."""

    def __init__(self, model, bases, max_length):
        self.model = model
        self.max_length = max_length
        self.bases = set()
        self.taken = set()
        for chunk in itertools.batched({self._cut(base) for base in bases if base}, CHUNK_SIZE):
            self.taken.update(model.objects.filter(slug__in=chunk).values_list("slug", flat=True))

    def _cut(self, base):
        return base[: self.max_length - 6].strip("-")

    def make(self, base, fallback):
        base = self._cut(base or fallback) or fallback
        if base in self.taken and base not in self.bases:
            self.bases.add(base)
            numbered = self.model.objects.filter(numbered_slugs(base))
            self.taken.update(numbered.values_list("slug", flat=True))
        slug, n = base, 2
        while slug in self.taken:
            slug, n = f"{base}-{n}", n + 1
        self.taken.add(slug)
        return slug


def _split_name(name):
    """The published name goes in the Chinese field unless it has no Chinese in it."""
    return (name, "") if _CJK.search(name) else ("", name)


def _enter_approved(rows, register, *, batch, filing_type, by, note):
    """Create the rows' new applicants, then their approved models through the workflow."""
    new_applicants = {}
    for row in rows:
        key = row.applicant_name.casefold()
        if row.new_applicant and key not in new_applicants:
            name_zh, name_en = _split_name(row.applicant_name)
            new_applicants[key] = (name_zh, name_en, row.jurisdiction)
    applicant_bases = {name: slug_base(en, zh) for name, (zh, en, _j) in new_applicants.items()}
    applicant_slugs = _Slugs(Applicant, applicant_bases.values(), 80)
    objs = {
        name: Applicant(
            name_zh=zh,
            name_en=en,
            jurisdiction=jurisdiction,
            slug=applicant_slugs.make(applicant_bases[name], "applicant"),
        )
        for name, (zh, en, jurisdiction) in new_applicants.items()
    }
    new_ids = insert_many(Applicant, objs.values())
    applicants = dict(register.applicants)
    applicants.update({name: (new_ids[a.slug], a.slug) for name, a in objs.items()})
    applicant_names = dict(register.applicant_names)
    applicant_names.update({new_ids[a.slug]: (a.name_zh, a.name_en) for a in objs.values()})

    names = [_split_name(row.model_name) for row in rows]
    model_bases = [slug_base(en, zh) for zh, en in names]
    model_slugs = _Slugs(AIModel, model_bases, 100)
    models = []
    for row, (name_zh, name_en), base in zip(rows, names, model_bases, strict=True):
        applicant_id, applicant_slug = applicants[row.applicant_name.casefold()]
        models.append(
            AIModel(
                name_zh=name_zh,
                name_en=name_en,
                applicant_id=applicant_id,
                filing_type=filing_type,
                filing_number=row.filing_number,
                approved_on=row.filing_date,
                batch=batch,
                seq_no=row.seq_no,
                slug=model_slugs.make(base, f"{applicant_slug}-model"),
                search_text=search_text(name_zh, name_en, *applicant_names[applicant_id]),
            )
        )
    workflow.enter_published(models, by=by, note=note)
    return len(models), len(objs)


def import_list(
    data,
    *,
    batch,
    filing_type=FilingType.FILING,
    by=None,
    dry_run=False,
    skip_invalid=False,
):
    """Check the list in ``data`` (bytes) and, unless told not to, write it into ``batch``.

    Nothing is written when ``dry_run`` is set, or when any row has a problem and
    ``skip_invalid`` is not set. Raises ``ImportFileError`` when the file cannot be read
    as a list at all.
    """
    if filing_type not in FilingType.values:
        raise ImportFileError(_("“%(type)s” is not a filing type.") % {"type": filing_type})
    rows = parse(data)
    result = ImportResult(rows=rows, dry_run=dry_run)
    with transaction.atomic():
        register = _Register(rows)
        _check(rows, register, JurisdictionResolver())
        if dry_run or (result.bad_rows and not skip_invalid):
            return result
        note = _("Published in %(batch)s.") % {"batch": batch}
        try:
            result.created_models, result.created_applicants = _enter_approved(
                result.to_create,
                register,
                batch=batch,
                filing_type=filing_type,
                by=by,
                note=note,
            )
        except IntegrityError as exc:
            raise ImportFileError(
                _("The database refused the import, nothing was written: %(error)s")
                % {"error": exc}
            ) from exc
    result.written = True
    return result


REJECTED_HEADER = [*PUBLISHED_HEADER, "row", "problems"]


def rejected_export(result):
    """The rows that were not imported, with the reasons, in a file that can be fixed and
    imported again."""
    return Export(
        "rejected",
        REJECTED_HEADER,
        (
            (*(row.cells[key] for key in FIELDS), row.number, " ".join(row.problems))
            for row in result.bad_rows
        ),
    )
