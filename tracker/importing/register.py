"""Loads the whole published register shipped in tracker/data/: every CAC list, through
the importer, and the sourced facts the lists lack.

- ``data/cac/batches.csv`` names each published list: its notice, announcement date and the
  cumulative totals the CAC announced. Each list becomes a batch, and each of its tables
  is imported into it by ``importer.import_list``, the code behind ``import_filings`` and
  the admin's import page. Rows whose model and applicant cells are swapped in the list
  are read the other way round, and their history says so.
- ``data/facts/`` adds what news reports and other sources said of listed models: English
  names, sectors, the news report of the January 2024 approval round as a cited source.

Running it again creates nothing and changes nothing.
"""

import csv
import datetime
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from tracker import audit
from tracker.importing import lists as importer
from tracker.models import (
    AIModel,
    Applicant,
    Batch,
    DatePrecision,
    Scope,
    Sequence,
    Source,
)

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
CAC_DIR = DATA_DIR / "cac"
FACTS_DIR = DATA_DIR / "facts"


class LoadError(Exception):
    """A shipped file cannot be loaded as it is; the message is meant for a person."""


@dataclass
class ListLoad:
    """What the import of one published table did."""

    file: str
    batch: str
    rows: int
    created: int
    unchanged: int
    # Rows read otherwise than their cells say, or with a number that looks wrong.
    notices: list
    # Rows whose date cell carries a note (补登), which their history keeps.
    dated_with_note: int


@dataclass
class LoadResult:
    lists: list = field(default_factory=list)
    batches_created: int = 0
    applicants_created: int = 0
    facts_changed: int = 0
    sources_created: int = 0
    # Rows of lists loaded before that the register now holds otherwise (staff corrections).
    differences: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def models_created(self):
        return sum(load.created for load in self.lists)

    @property
    def rows(self):
        return sum(load.rows for load in self.lists)

    @property
    def notices(self):
        return [f"{load.file}: {line}" for load in self.lists for line in load.notices]

    @property
    def dated_with_note(self):
        return sum(load.dated_with_note for load in self.lists)


def _rows(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        yield from csv.DictReader(handle)


def _count(text):
    return int(text) if (text or "").strip() else None


def _date(text):
    return datetime.date.fromisoformat(text) if (text or "").strip() else None


def batch_slug(list_name):
    return f"cac-{list_name}"


def _batch_fields(row):
    """A batches.csv row as the fields of its batch."""
    known_to = row["announced_on_known_to"].strip()
    if known_to == DatePrecision.MONTH:
        announced_on = datetime.date.fromisoformat(row["announced_on"].strip() + "-01")
    else:
        announced_on = datetime.date.fromisoformat(row["announced_on"].strip())
    list_name = row["list"].strip()
    on_device = "on-device" in list_name
    month = list_name[:7]
    title_zh = row["title_zh"].strip()
    if on_device:
        title_en = f"Mobile on-device generative AI services filed ({month})"
        # The attachment has no title of its own: a description in the list's words.
        title_zh = (
            title_zh or f"端侧生成式人工智能服务已备案信息（{month[:4]}年{int(month[5:])}月）"
        )
    else:
        title_en = f"Generative AI services filed and registered ({month} list)"
    totals_source = row["totals_source"].strip()
    return {
        "title_zh": title_zh,
        "title_en": title_en,
        "announced_on": announced_on,
        "announced_precision": known_to,
        "covers_until": _date(row["as_of"]),
        "source_url": row["notice_url"].strip(),
        "reported_total": _count(row["announced_filings_total"]),
        "reported_registrations_total": _count(row["announced_registrations_total"]),
        "description": f"Source of the announced totals: {totals_source}." if totals_source else "",
    }


def _save_changes(obj, values):
    """Set ``values`` on ``obj`` and save the fields that differ; whether any did.

    A model's version moves on, as with any edit, so that a form read before is refused.
    """
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if not changed:
        return False
    for name in changed:
        setattr(obj, name, values[name])
    if isinstance(obj, AIModel):
        obj.version += 1
        changed.append("version")
    obj.save(update_fields=[*changed, "updated_at"])
    return True


def _check_url(url, name):
    """Refuse an address a page could not link to safely (only http and https)."""
    if not url:
        return
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as error:
        raise LoadError(f"{name}: “{url}” is not a web address.") from error


def load_batches(result):
    """Each published list as a batch, with the files of its tables, in published order."""
    lists = []
    for row in _rows(CAC_DIR / "batches.csv"):
        values = _batch_fields(row)
        _check_url(values["source_url"], "batches.csv")
        batch = Batch.objects.filter(slug=batch_slug(row["list"].strip())).first()
        if batch is None:
            batch = Batch.objects.create(slug=batch_slug(row["list"].strip()), **values)
            result.batches_created += 1
        else:
            _save_changes(batch, values)
        lists.append((batch, row["files"].split()))
    return lists


def load_lists(lists, result):
    """Import each list's tables into its batch.

    A table loaded before is imported again to add what it lacks: rows that no longer match
    because staff corrected them are kept as corrected and reported. A table with a row
    that cannot be loaded into an empty batch stops the load.
    """
    for batch, files in lists:
        loaded_before = batch.models.exists()
        for name in files:
            path = CAC_DIR / "lists" / name
            try:
                imported = importer.import_list(
                    importer.read_path(path),
                    batch=batch,
                    unswap=True,
                    skip_invalid=loaded_before,
                )
            except importer.ImportFileError as error:
                raise LoadError(f"{name}: {error}") from error
            if not imported.written:
                problems = "\n".join(imported.problem_lines())
                raise LoadError(f"{name}: rows with problems, nothing written:\n{problems}")
            result.differences += [f"{name}: {line}" for line in imported.problem_lines()]
            result.applicants_created += imported.created_applicants
            created = imported.to_create if imported.created_models else []
            result.lists.append(
                ListLoad(
                    file=name,
                    batch=batch.slug,
                    rows=len(imported.rows),
                    created=imported.created_models,
                    unchanged=len(imported.unchanged),
                    notices=imported.notice_lines(
                        [row for row in created if row.swapped or row.flags]
                    ),
                    dated_with_note=sum(1 for row in created if row.date_note),
                )
            )


def _listed(rows, what):
    """The national filings ``rows`` name by their ``seq_no``, in one query; ``what`` names
    a row in the error for a number no list holds."""
    numbers = [int(row["seq_no"]) for row in rows]
    found = AIModel.objects.select_related("applicant").filter(
        sequence=Sequence.FILING, seq_no__in=numbers
    )
    by_number = {ai_model.seq_no: ai_model for ai_model in found}
    for row, number in zip(rows, numbers, strict=True):
        if number not in by_number:
            raise LoadError(f"No national filing No. {number} for {row[what]}.")
    return [(row, by_number[number]) for row, number in zip(rows, numbers, strict=True)]


def _name_applicant(applicant, name_en):
    """Give ``applicant`` the English name a source used, unless it has one or another
    applicant goes by it."""
    if not name_en or applicant.name_en:
        return False
    if Applicant.objects.filter(name_en__iexact=name_en).exists():
        return False
    applicant.name_en = name_en
    applicant.save(update_fields=["name_en"])
    return True


def load_applicant_names(result):
    """English names of listed applicants, from the rows gathered before the lists."""
    rows = list(_rows(FACTS_DIR / "cac_genai_filings_sample.csv"))
    for row, listed in _listed(rows, "model_name_cn"):
        result.facts_changed += _name_applicant(listed.applicant, row["filing_entity_en"].strip())


def load_seed_round(result):
    """What the news reported of the January 2024 round, on the listed rows it names."""
    rows = list(_rows(FACTS_DIR / "seed_batch_2024_01.csv"))
    for row, listed in _listed(rows, "applicant_en"):
        result.facts_changed += _name_applicant(listed.applicant, row["applicant_en"].strip())
        news_zh = row["model_name_zh"].strip()
        aliases = listed.alias_list
        if news_zh and news_zh not in (listed.name_zh, *aliases):
            aliases.append(news_zh)
        values = {
            "name_en": listed.name_en or row["model_name_en"].strip(),
            "aliases": "\n".join(aliases),
            "scope": row["scope"] if row["scope"] in Scope.values else listed.scope,
            "sector": listed.sector or row["sector"].strip(),
            "description": listed.description
            or f"Reported in the news on {row['reported_on']}: {row['what_was_reported']}.",
        }
        result.facts_changed += _save_changes(listed, values)


def load_sources(result):
    """Reports that name listed rows, each linked to the rows it names."""
    for row in _rows(FACTS_DIR / "sources.csv"):
        _check_url(row["url"].strip(), "sources.csv")
        source, created = Source.objects.get_or_create(
            title=row["title"].strip(),
            url=row["url"].strip(),
            defaults={
                "publisher": row["publisher"].strip(),
                "published_on": _date(row["published_on"]),
                "summary": row["summary"].strip(),
            },
        )
        result.sources_created += created
        named = AIModel.objects.filter(
            sequence=row["sequence"],
            seq_no__range=(int(row["seq_from"]), int(row["seq_to"])),
        )
        source.ai_models.add(*named)


def load_register():
    """Load every shipped list and fact; running it again creates nothing."""
    started = time.perf_counter()
    result = LoadResult()
    with transaction.atomic():
        lists = load_batches(result)
        load_lists(lists, result)
        # What the facts add to the listed rows is in each record's history, with its source.
        with audit.recorded(reason="The applicant's English name, as its filings give it."):
            load_applicant_names(result)
        with audit.recorded(reason="As the news reported the January 2024 approval round."):
            load_seed_round(result)
        load_sources(result)
    result.seconds = time.perf_counter() - started
    return result
