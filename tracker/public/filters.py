"""The filters of /models/, shared by the listing, the feed and the CSV export.

A bad value never raises: it is dropped from the filtering and described in
``AIModelFilter.problems`` so the page can say what it ignored.
"""

import datetime

import django_filters
from django import forms
from django.db.models import (
    Case,
    F,
    Value,
    When,
)
from django.http import QueryDict
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from tracker.models import (
    AIModel,
    Applicant,
    Batch,
    FilingType,
    Jurisdiction,
    Scope,
    Status,
    days_in_review_expression,
    name_expression,
    sorted_by,
)
from tracker.search import (
    looks_up_in_index,
    search_condition,
    search_index_count,
)
from tracker.text import normalise_name

MAX_QUERY_LENGTH = 200
MAX_VALUES = 50
DATE_PARAMS = ("submitted_after", "submitted_before", "approved_after", "approved_before")
CHOICE_PARAMS = {"status": Status, "filing_type": FilingType, "scope": Scope}
# Parameters naming rows of other tables, with the field that identifies them.
LOOKUP_PARAMS = {
    "jurisdiction": (Jurisdiction, "code"),
    "applicant": (Applicant, "slug"),
    "batch": (Batch, "slug"),
}
SORT_KEYS = (
    "name",
    "applicant",
    "jurisdiction",
    "filing_type",
    "status",
    "filing_number",
    "submitted_on",
    "approved_on",
    "batch",
    "days_in_review",
)
DEFAULT_SORT = "-approved_on"


def localised_name(prefix=""):
    """An expression for a name in the active language, falling back to the other one."""
    return name_expression(prefix, chinese_first=(get_language() or "").startswith("zh"))


def _sort_expression(key):
    if key == "name":
        return localised_name()
    if key == "applicant":
        return localised_name("applicant__")
    if key == "jurisdiction":
        return F("applicant__jurisdiction__sort_order")
    if key == "status":
        # Workflow order reads better than the alphabetical order of the codes.
        return Case(
            *(When(status=value, then=Value(i)) for i, value in enumerate(Status.values)),
            default=Value(len(Status.values)),
        )
    if key == "batch":
        return F("batch__announced_on")
    if key == "days_in_review":
        return days_in_review_expression()
    return F(key)


def ordering(sort):
    """Order by one whitelisted key, as every listing is sorted (``sorted_by``); the
    default sort is the published order."""
    return sorted_by(_sort_expression(sort.lstrip("-")), descending=sort.startswith("-"))


def checked_query(value):
    """A search query cut to a sane length, and a sentence saying so when it was cut."""
    query = normalise_name(value)
    if len(query) <= MAX_QUERY_LENGTH:
        return query, []
    message = _("The search was shortened to its first %(n)d characters.") % {"n": MAX_QUERY_LENGTH}
    return query[:MAX_QUERY_LENGTH].strip(), [message]


class AnyOfField(forms.MultipleChoiceField):
    widget = forms.MultipleHiddenInput

    def valid_value(self, value):
        # The filter set checked every value before the form saw it.
        return True


class AnyOfFilter(django_filters.Filter):
    """Several values of one parameter (?status=a&status=b) match any of them."""

    field_class = AnyOfField

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__in": value})


class SearchFilter(django_filters.CharFilter):
    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(search_condition(value, self.parent.search_in_index_order))


class SortFilter(django_filters.CharFilter):
    """Always orders, so every result (and every page of it) has one stable order."""

    def filter(self, qs, value):
        return qs.order_by(*ordering(value or DEFAULT_SORT))


class AIModelFilter(django_filters.FilterSet):
    q = SearchFilter(label=gettext_lazy("Search"))
    status = AnyOfFilter(label=gettext_lazy("Status"))
    filing_type = AnyOfFilter(label=gettext_lazy("Type"))
    scope = AnyOfFilter(label=gettext_lazy("Scope"))
    sector = AnyOfFilter(label=gettext_lazy("Sector"))
    jurisdiction = AnyOfFilter(
        field_name="applicant__jurisdiction__code", label=gettext_lazy("Jurisdiction")
    )
    applicant = AnyOfFilter(field_name="applicant__slug", label=gettext_lazy("Applicant"))
    batch = AnyOfFilter(field_name="batch__slug", label=gettext_lazy("Batch"))
    submitted_after = django_filters.DateFilter(
        field_name="submitted_on", lookup_expr="gte", label=gettext_lazy("Submitted from")
    )
    submitted_before = django_filters.DateFilter(
        field_name="submitted_on", lookup_expr="lte", label=gettext_lazy("Submitted until")
    )
    approved_after = django_filters.DateFilter(
        field_name="approved_on", lookup_expr="gte", label=gettext_lazy("Approved from")
    )
    approved_before = django_filters.DateFilter(
        field_name="approved_on", lookup_expr="lte", label=gettext_lazy("Approved until")
    )
    sort = SortFilter(label=gettext_lazy("Sort"))

    class Meta:
        model = AIModel
        fields = []

    def __init__(self, data=None, queryset=None, **kwargs):
        self.problems = []
        self.search_in_index_order = False
        # Parameter name -> list of (value, label) actually applied, for "active filters".
        self.active = {}
        if queryset is None:
            queryset = AIModel.objects.for_listing()
        super().__init__(self._checked(data), queryset=queryset, **kwargs)

    def _ignore(self, message, **values):
        self.problems.append(message % values)

    def _checked(self, data):
        """A copy of ``data`` holding only values the filters understand."""
        data = data if data is not None else QueryDict()
        checked = QueryDict(mutable=True)
        for name in self.base_filters:
            # Folds widths as stored names are folded, and drops control characters
            # (NUL included, which PostgreSQL refuses in a query).
            values = [normalise_name(v) for v in data.getlist(name)]
            values = [v for v in values if v][:MAX_VALUES]
            if not values:
                continue
            if name == "q":
                values = [self._checked_query(values[-1])]
            elif name in CHOICE_PARAMS:
                values = self._checked_choices(name, values)
            elif name in LOOKUP_PARAMS:
                values = self._checked_lookups(name, values)
            elif name == "sector":
                self.active[name] = [(v, v) for v in values]
            elif name in DATE_PARAMS:
                values = self._checked_date(name, values[-1])
            elif name == "sort":
                values = self._checked_sort(values[-1])
            if values:
                checked.setlist(name, values)
        return checked

    def _checked_query(self, value):
        query, problems = checked_query(value)
        self.problems += problems
        self.active["q"] = [(query, query)]
        return query

    def _checked_choices(self, name, values):
        choices = CHOICE_PARAMS[name]
        known = [v for v in dict.fromkeys(values) if v in choices.values]
        for value in values:
            if value not in choices.values:
                self._ignore(
                    _("Ignored %(param)s “%(value)s”: not a known value."),
                    param=self.base_filters[name].label,
                    value=value,
                )
        self.active[name] = [(v, choices(v).label) for v in known]
        return known

    def _checked_lookups(self, name, values):
        model, field = LOOKUP_PARAMS[name]
        found = {
            getattr(obj, field): obj for obj in model.objects.filter(**{f"{field}__in": values})
        }
        for value in values:
            if value not in found:
                self._ignore(
                    _("Ignored %(param)s “%(value)s”: no such entry in the register."),
                    param=self.base_filters[name].label,
                    value=value,
                )
        known = [v for v in dict.fromkeys(values) if v in found]
        self.active[name] = [(v, str(found[v])) for v in known]
        return known

    def _checked_date(self, name, value):
        try:
            date = datetime.date.fromisoformat(value)
        except ValueError:
            self._ignore(
                _("Ignored %(param)s “%(value)s”: not a date in the form YYYY-MM-DD."),
                param=self.base_filters[name].label,
                value=value,
            )
            return []
        self.active[name] = [(date.isoformat(), date.isoformat())]
        return [date.isoformat()]

    def _checked_sort(self, value):
        if value.lstrip("-") not in SORT_KEYS or value.startswith("--"):
            self._ignore(
                _("Ignored sort “%(value)s”: not a column that can be sorted."), value=value
            )
            return []
        return [value]

    def filter_queryset(self, queryset):
        # The values were checked above, so the form only rejects what slipped past it.
        for name, errors in self.form.errors.items():
            self._ignore(
                _("Ignored %(param)s: %(error)s"),
                param=self.filters[name].label if name in self.filters else name,
                error=" ".join(errors),
            )
        # SortFilter always orders: without a sort given, by the default one.
        return super().filter_queryset(queryset)

    def qs_for_many_matches(self):
        """The same rows as ``qs`` in the same order, read so that a page of a search with
        many matches stops early; None when that would not help.

        Only the default order has an index to read along, and only words looked up in the
        search index can be checked row by row at no cost.
        """
        cleaned = self.form.cleaned_data
        if not looks_up_in_index(cleaned.get("q") or "") or (
            (cleaned.get("sort") or DEFAULT_SORT) != DEFAULT_SORT
        ):
            return None
        problems, self.search_in_index_order = list(self.problems), True
        try:
            return self.filter_queryset(self.queryset.all())
        finally:
            self.problems, self.search_in_index_order = problems, False

    def count_in_search_index(self, limit):
        """The number of matches, up to ``limit``, counted in the search index alone; None
        unless the search is the only filter on an unfiltered queryset (SQLite only)."""
        self.is_valid()
        applied = {name for name, value in self.form.cleaned_data.items() if value}
        if applied - {"q", "sort"} or "q" not in applied or self.queryset.query.has_filters():
            return None
        return search_index_count(self.form.cleaned_data["q"], limit)


def filter_models(params, queryset=None):
    """The models matching ``params`` (a QueryDict) and what was ignored, as sentences."""
    filterset = AIModelFilter(params, queryset=queryset)
    return filterset.qs, filterset.problems
