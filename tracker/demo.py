"""Loads the real, sourced demo data shipped in tracker/data/demo/.

Nothing is invented: an unknown fact stays empty. Where a published approval has no
filing date, the approval date is the day of the notice that published it, and the
history step says so.
"""

import csv
import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.db.models import Q

from . import workflow
from .models import (
    AIModel,
    Applicant,
    ApplicantKind,
    Batch,
    JurisdictionResolver,
    Scope,
    Status,
)
from .text import normalise_name

DATA_DIR = Path(__file__).resolve().parent / "data" / "demo"

SEED_BATCH_SLUG = "2024-01-28-cac-batch"


@dataclass
class LoadResult:
    created: dict = field(default_factory=lambda: {"batches": 0, "applicants": 0, "models": 0})

    def __str__(self):
        return ", ".join(f"{n} {what}" for what, n in self.created.items())


def _rows(name):
    with open(DATA_DIR / name, encoding="utf-8-sig", newline="") as f:
        yield from csv.DictReader(f)


def _date(text):
    """An ISO date, or None for a partial or missing one (such as ``2024-08``)."""
    try:
        return datetime.date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def _count(text):
    """An announced count when it is a plain number; ``>40`` or ``490+`` are not."""
    match = re.fullmatch(r"\s*(\d+)\s*(\(.*\))?\s*", text or "")
    return int(match.group(1)) if match and "derived" not in (match.group(2) or "") else None


def _announced_on(row):
    """The notice's day; a month-only date (``2024-08``) takes the month's first day."""
    text = row["announced_date"].strip()
    return _date(text) or datetime.date.fromisoformat(text + "-01")


def batch_slug(row):
    return f"{row['announced_date'].strip()}-cac-batch"


def load_batches(result):
    batches = []
    for row in _rows("cac_genai_cumulative_totals.csv"):
        announced_on = _announced_on(row)
        description = row["what"]
        if not _date(row["announced_date"]):
            description += f" (announced in {row['announced_date']}; the day was not reported)"
        description += f". Confidence: {row['confidence']}."
        batch, created = Batch.objects.get_or_create(
            slug=batch_slug(row),
            defaults={
                "title_en": f"Generative AI filings announced {row['announced_date']}",
                "title_zh": f"{row['announced_date']} 公布的生成式人工智能服务备案",
                "announced_on": announced_on,
                "covers_until": _date(row["as_of_date"]),
                "source_url": _first_url(row["source_url_or_path"]),
                "reported_new": _count(row["filed_new_in_period"]),
                "reported_total": _count(row["filed_services_cumulative"]),
                "reported_registrations_new": _count(row["registered_new_in_period"]),
                "reported_registrations_total": _count(row["registered_apps_cumulative"]),
                "description": description,
            },
        )
        result.created["batches"] += created
        batches.append(batch)
    return batches


def _first_url(text):
    match = re.search(r"https?://\S+", text or "")
    return match.group(0).rstrip(";,") if match else ""


def _batch_for(seq_no, filing_date, batches):
    """The notice that published a row of the national list.

    A notice announced on the row's filing date published it (the first batch of
    2023-08-31); otherwise the earliest published list whose cumulative total covers its
    sequence number.
    """
    for batch in batches:
        if batch.announced_on == filing_date:
            return batch
    listed = [b for b in batches if b.reported_total]
    for batch in sorted(listed, key=lambda b: b.announced_on):
        # The lists start with the 2024-04-02 notice; earlier totals were media counts.
        if batch.announced_on >= datetime.date(2024, 4, 2) and seq_no <= batch.reported_total:
            return batch
    return None


def _kind(name_zh, name_en, jurisdiction):
    if jurisdiction is not None and jurisdiction.code == "SASAC":
        return ApplicantKind.STATE_OWNED
    if re.search(r"(研究所|研究院|大学|学院)$", name_zh) or re.search(
        r"\b(Institute|University|Laboratory|Academy of Sciences)\b", name_en
    ):
        return ApplicantKind.ACADEMIC
    return ApplicantKind.PRIVATE


def _applicant(name_zh, name_en, jurisdiction, result):
    applicant = Applicant.objects.matching(name_zh, name_en)
    if applicant is None:
        applicant = Applicant.objects.create(
            name_zh=name_zh,
            name_en=name_en,
            jurisdiction=jurisdiction,
            kind=_kind(name_zh, name_en, jurisdiction),
        )
        result.created["applicants"] += 1
    return applicant


def _existing_model(applicant, name_zh, name_en, filing_number, batch):
    if filing_number:
        found = AIModel.objects.filter(filing_number=filing_number).first()
        if found:
            return found
    names = Q()
    if name_zh:
        names |= Q(name_zh=name_zh)
    if name_en:
        names |= Q(name_en=name_en)
    if not names:
        # A model whose name was never reported is known by its applicant and batch.
        names = Q(name_zh="", name_en="", batch=batch)
    return AIModel.objects.filter(names, applicant=applicant).first()


def _approve(ai_model, approved_on, date_reported, result):
    note = "" if date_reported else "Filing date not reported; date of the notice that listed it."
    ai_model.approved_on = approved_on
    workflow.enter(ai_model, by=None, status=Status.APPROVED, on=approved_on, note=note)
    result.created["models"] += 1


def load_filings(batches, result):
    jurisdictions = JurisdictionResolver()
    for row in _rows("cac_genai_filings_sample.csv"):
        seq_no = int(row["seq_no"])
        filing_number = normalise_name(row["filing_number"])
        jurisdiction = jurisdictions.resolve(row["jurisdiction_cn"], filing_number)
        applicant = _applicant(
            normalise_name(row["filing_entity_cn"]),
            normalise_name(row["filing_entity_en"]),
            jurisdiction,
            result,
        )
        filing_date = _date(row["filing_date"])
        batch = _batch_for(seq_no, filing_date, batches)
        name_zh = normalise_name(row["model_name_cn"])
        if _existing_model(applicant, name_zh, "", filing_number, batch):
            continue
        ai_model = AIModel(
            name_zh=name_zh,
            applicant=applicant,
            filing_number=filing_number,
            batch=batch,
            seq_no=seq_no,
        )
        _approve(ai_model, filing_date or batch.announced_on, filing_date is not None, result)


def load_seed_batch(batches, result):
    batch = next(b for b in batches if b.slug == SEED_BATCH_SLUG)
    for row in _rows("seed_batch_2024_01.csv"):
        applicant = _applicant(
            normalise_name(row["applicant_zh"]), normalise_name(row["applicant_en"]), None, result
        )
        name_zh = normalise_name(row["model_name_zh"])
        name_en = normalise_name(row["model_name_en"])
        existing = _existing_model(applicant, name_zh, name_en, "", batch)
        if existing is not None:
            # 01.AI's model is also on the national list: the news report adds what it knew.
            if existing.batch_id != batch.pk or not existing.sector:
                AIModel.objects.filter(pk=existing.pk).update(
                    batch=batch, scope=row["scope"], sector=row["sector"]
                )
            continue
        ai_model = AIModel(
            name_zh=name_zh,
            name_en=name_en,
            applicant=applicant,
            scope=row["scope"] if row["scope"] in Scope.values else Scope.GENERAL,
            sector=row["sector"],
            batch=batch,
            description=row["what_was_reported"],
        )
        _approve(ai_model, batch.announced_on, False, result)


def load_demo():
    """Load every demo file; running it again creates nothing."""
    result = LoadResult()
    with transaction.atomic():
        batches = load_batches(result)
        load_filings(batches, result)
        load_seed_batch(batches, result)
    return result
