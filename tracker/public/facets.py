"""The choices of the /models/ filters, each with the number of models it selects.

A facet's numbers follow every applied filter but its own: several values of one parameter
combine as OR, so each number says how many models the listing holds for that choice with
the other filters as they are, and a checked choice leaves its neighbours' numbers alone.
Each facet costs one GROUP BY query, and the numbers are kept in the cache until the
register changes.
"""

import hashlib
import json
from dataclasses import dataclass

from django.db.models import Count
from django.utils.translation import gettext_lazy

from tracker.models import FilingType, Jurisdiction, Scope, Status

# The column each facet counts by: a related row's id, which the choices then name.
COUNTED = {
    "status": "status",
    "filing_type": "filing_type",
    "scope": "scope",
    "sector": "sector",
    "jurisdiction": "applicant__jurisdiction",
    "batch": "batch",
}
# The long lists: a box that scrolls, a field that narrows it as one types (static/js), and
# only the choices that select a model or are checked.
FINDERS = {
    "jurisdiction": gettext_lazy("Find a jurisdiction"),
    "batch": gettext_lazy("Find a batch"),
    "sector": gettext_lazy("Find a sector"),
}


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    count: int
    checked: bool
    # What narrowing the list also matches: the names in both languages and the code.
    keywords: str = ""


@dataclass(frozen=True)
class Facet:
    name: str  # the GET parameter
    legend: str
    options: list
    finder: str = ""  # the label of the field that narrows a long list

    @property
    def long(self):
        return bool(self.finder)


def count(filterset):
    """{parameter: {value: number of models}}, each facet counted without its own filter."""
    return {
        name: dict(filterset.qs_without(name).values_list(column).annotate(n=Count("pk")))
        for name, column in COUNTED.items()
    }


def _cache_name(filterset):
    """The same filters in any order, or with their values in any order, share one entry."""
    applied = {
        name: sorted(value for value, _label in pairs) for name, pairs in filterset.active.items()
    }
    text = json.dumps(applied, sort_keys=True, ensure_ascii=False)
    return f"facets:{hashlib.sha256(text.encode()).hexdigest()}"


def facets(filterset, register, batches):
    """The listing's facets by parameter; ``register`` (``RegisterStats``) keeps their
    numbers, ``batches`` are the register's batches, already read."""
    counted = register.cached(_cache_name(filterset), lambda: count(filterset))
    checked = {name: {value for value, _label in pairs} for name, pairs in filterset.active.items()}

    def facet(name, choices):
        """``choices`` as (value, counted key, label, keywords)."""
        options = [
            Option(value, label, counted[name].get(key, 0), value in checked.get(name, ()), words)
            for value, key, label, words in choices
        ]
        finder = FINDERS.get(name, "")
        if finder:
            # Checked first: a long list may scroll them out of sight.
            options = sorted(
                (o for o in options if o.count or o.checked), key=lambda o: not o.checked
            )
        return Facet(name, filterset.filters[name].label, options, finder)

    def fixed(name, choices):
        return facet(name, [(value, value, label, "") for value, label in choices.choices])

    sectors = sorted({s for s in counted["sector"] if s} | checked.get("sector", set()))
    newest_first = sorted(batches, key=lambda b: (b.announced_on, b.pk), reverse=True)
    return {
        "status": fixed("status", Status),
        "filing_type": fixed("filing_type", FilingType),
        "scope": fixed("scope", Scope),
        "sector": facet("sector", [(s, s, s, "") for s in sectors]),
        "jurisdiction": facet(
            "jurisdiction",
            [
                (j.code, j.pk, j.name, f"{j.name_zh} {j.name_en} {j.code}")
                for j in Jurisdiction.objects.all()
            ],
        ),
        "batch": facet(
            "batch",
            [
                (
                    b.slug,
                    b.pk,
                    f"{b.announced_label} {b.title}",
                    f"{b.title_zh} {b.title_en} {b.slug}",
                )
                for b in newest_first
            ],
        ),
    }
