"""The filters of /models/, shared by the listing, the feed and the CSV export.

A bad value never raises: the filter set's form refuses it, the parameter is left out of
the filtering, and ``AIModelFilter.problems`` says what was ignored and why.
"""

import datetime
import re

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import (
    Case,
    Count,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.functional import cached_property
from django.utils.timezone import get_current_timezone, is_naive, make_aware
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django_filters.fields import BaseCSVField

from tracker.models import (
    PENDING_STATUSES,
    AIModel,
    Applicant,
    ApplicantKind,
    Batch,
    ChangeKind,
    Correction,
    FilingType,
    Jurisdiction,
    RecordType,
    Scope,
    Status,
    StatusChange,
    days_in_review_expression,
    name_expression,
    non_empty,
    sorted_by,
)
from tracker.search import (
    looks_up_in_index,
    search_condition,
    search_index_count,
)
from tracker.text import normalise_name

MAX_QUERY_LENGTH = 200
# describe(): letters and digits of any script, and . + - (a file name's safe characters).
SAFE_NAME = re.compile(r"[^\w.+-]+")
MAX_DESCRIPTION = 120
MAX_VALUES = 50
DATE_PARAMS = ("submitted_after", "submitted_before", "approved_after", "approved_before")
# The parameters naming rows of other tables, with the field that names them.
LOOKUP_PARAMS = {"jurisdiction": "code", "applicant": "slug", "batch": "slug"}
# The parameters that take several values (?status=a&status=b matches either).
MULTIPLE_PARAMS = ("status", "filing_type", "scope", "sector", *LOOKUP_PARAMS)
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
# The statuses /applicants/ counts in each of its columns, by the column's sort key.
STATUS_GROUPS = {
    "models": tuple(Status.values),
    "approved": (Status.APPROVED,),
    "pending": PENDING_STATUSES,
    "other": tuple(s for s in Status.values if s != Status.APPROVED and s not in PENDING_STATUSES),
}
APPLICANT_SORT_KEYS = ("name", "jurisdiction", "kind", *STATUS_GROUPS)
APPLICANT_DEFAULT_SORT = "name"


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
        return _choice_order("status", Status)
    if key == "filing_number":
        return non_empty("filing_number")
    if key == "batch":
        return F("batch__announced_on")
    if key == "days_in_review":
        return days_in_review_expression()
    return F(key)


def _choice_order(field, choices):
    # The choices' own order (the workflow's, for statuses) reads better than the
    # alphabetical order of their codes.
    return Case(
        *(When(**{field: value}, then=Value(i)) for i, value in enumerate(choices.values)),
        default=Value(len(choices.values)),
    )


def ordering(sort):
    """Order by one whitelisted key, as every listing is sorted (``sorted_by``); the
    default sort is the published order."""
    return sorted_by(_sort_expression(sort.lstrip("-")), descending=sort.startswith("-"))


def _applicant_sort_expression(key):
    if key == "name":
        return localised_name()
    if key == "jurisdiction":
        return F("jurisdiction__sort_order")
    if key == "kind":
        return _choice_order("kind", ApplicantKind)
    # Counted per applicant from aimodel_applicant_status_idx alone; none counts 0.
    counted = (
        AIModel.objects.filter(applicant=OuterRef("pk"), status__in=STATUS_GROUPS[key])
        .order_by()
        .values("applicant")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted), 0)


def applicant_ordering(sort):
    """The order of /applicants/ by one of ``APPLICANT_SORT_KEYS``: unknown values last,
    as every listing is sorted, and applicants with the same value by name."""
    key = sort.lstrip("-")
    first, _pk = sorted_by(_applicant_sort_expression(key), descending=sort.startswith("-"))
    if key == "name":
        return [first, "pk"]
    return [first, localised_name().asc(), "pk"]


def checked_sort(value, keys, default):
    """The sort ``value`` asks for (one of ``keys``, "-" before it for descending), or
    ``default`` and a sentence saying why ``value`` was ignored."""
    value = normalise_name(value)
    if not value:
        return default, []
    if value.removeprefix("-") in keys:
        return value, []
    return default, [ignored("sort", value, REASONS["sort"])]


def ignored(param, value, reason):
    return _("Ignored %(param)s “%(value)s”: %(reason)s") % {
        "param": param,
        "value": value,
        "reason": reason,
    }


def one_value_only(name):
    return _("%(param)s: give one value.") % {"param": name}


def too_many_values(name):
    return _("%(param)s: at most %(n)d values.") % {"param": name, "n": MAX_VALUES}


def repeated(params, names):
    """(parameter, reason) for each of ``names`` given more than once in ``params``."""
    return [(name, one_value_only(name)) for name in names if len(params.getlist(name)) > 1]


def checked_query(value):
    """A search query cut to a sane length, and a sentence saying so when it was cut."""
    query = normalise_name(value)
    if len(query) <= MAX_QUERY_LENGTH:
        return query, []
    message = _("The search was shortened to its first %(n)d characters.") % {"n": MAX_QUERY_LENGTH}
    return query[:MAX_QUERY_LENGTH].strip(), [message]


class AnyValueField(forms.MultipleChoiceField):
    widget = forms.MultipleHiddenInput

    def valid_value(self, value):
        # A sector is whatever staff typed: every value is one to look for.
        return True


class AnyValueFilter(django_filters.MultipleChoiceFilter):
    """Several values of one free-text parameter (?sector=a&sector=b) match any of them."""

    field_class = AnyValueField


class SearchFilter(django_filters.CharFilter):
    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(search_condition(value, self.parent.search_in_index_order))


class OneColumnField(BaseCSVField):
    """``OrderingFilter`` takes several columns, comma-separated; a listing sorts by one."""

    def clean(self, value):
        columns = super().clean(value)
        if columns is None:
            return None
        columns = [column for column in columns if column]
        if len(columns) != 1:
            raise ValidationError(
                "one column", code="invalid_choice", params={"value": ",".join(value)}
            )
        return columns


class SortFilter(django_filters.OrderingFilter):
    """?sort=column or ?sort=-column. The form checks the column; the order is built by
    ``ordering`` from expressions (a name in the reader's language, statuses in workflow
    order, days in review), which field names alone cannot say."""

    base_field_class = OneColumnField

    def __init__(self, **kwargs):
        super().__init__(fields=[(key, key) for key in SORT_KEYS], **kwargs)

    def filter(self, qs, value):
        return qs.order_by(*ordering(value[0] if value else DEFAULT_SORT))


# Why a parameter's value cannot be used, as the page and the API say it.
REASONS = {
    **dict.fromkeys(("status", "filing_type", "scope"), gettext_lazy("not a known value.")),
    **dict.fromkeys(
        ("jurisdiction", "applicant", "batch"), gettext_lazy("no such entry in the register.")
    ),
    **dict.fromkeys(DATE_PARAMS, gettext_lazy("not a date in the form YYYY-MM-DD.")),
    "sort": gettext_lazy("not a column that can be sorted."),
}


class LookupFilter(django_filters.ModelMultipleChoiceFilter):
    """Rows whose ``field_name`` is one of the entries named (by ``to_field_name``)."""

    def filter(self, qs, value):
        # No entry named is ``none()``. The parent's ``if not value`` would evaluate it,
        # building and compiling a query only to find it empty, on every listing and every
        # page of the API.
        if isinstance(value, QuerySet) and value.query.is_empty():
            return qs
        return super().filter(qs, value)


def _lookup(field_name, model, to_field_name, label):
    return LookupFilter(
        field_name=field_name,
        queryset=model.objects.all(),
        to_field_name=to_field_name,
        label=label,
        # One row each: no join multiplies the models, so no DISTINCT is needed.
        distinct=False,
    )


def _choices(choices, label):
    return django_filters.MultipleChoiceFilter(choices=choices.choices, label=label, distinct=False)


class AIModelFilter(django_filters.FilterSet):
    """The filters of /models/. The form validates every value; a parameter with a bad
    value is left out of the filtering and described in ``problems``."""

    q = SearchFilter(label=gettext_lazy("Search"))
    status = _choices(Status, gettext_lazy("Status"))
    filing_type = _choices(FilingType, gettext_lazy("Type"))
    scope = _choices(Scope, gettext_lazy("Scope"))
    sector = AnyValueFilter(label=gettext_lazy("Sector"), distinct=False)
    jurisdiction = _lookup(
        "applicant__jurisdiction__code", Jurisdiction, "code", gettext_lazy("Jurisdiction")
    )
    applicant = _lookup("applicant__slug", Applicant, "slug", gettext_lazy("Applicant"))
    batch = _lookup("batch__slug", Batch, "slug", gettext_lazy("Batch"))
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
        self.search_in_index_order = False
        self._search_problems = []
        if queryset is None:
            queryset = AIModel.objects.for_listing()
        super().__init__(self._normalised(data), queryset=queryset, **kwargs)

    def _normalised(self, data):
        """``data`` with every value folded as stored names are (widths; control
        characters, NUL included, which PostgreSQL refuses in a query, dropped), empty
        values left out, and a search cut to a sane length. ``cuts`` says, as
        (parameter, reason), what had to be left out to get there."""
        data = data if data is not None else QueryDict()
        normalised = QueryDict(mutable=True)
        self.cuts = []
        for name in self.base_filters:
            values = [v for v in map(normalise_name, data.getlist(name)) if v]
            if len(values) > MAX_VALUES:
                self.cuts.append((name, too_many_values(name)))
                values = values[:MAX_VALUES]
            if name not in MULTIPLE_PARAMS and len(values) > 1:
                self.cuts.append((name, one_value_only(name)))
                values = values[-1:]
            if name == "q" and values:
                query, self._search_problems = checked_query(values[0])
                if self._search_problems:
                    self.cuts.append(
                        (name, _("q: at most %(n)d characters.") % {"n": MAX_QUERY_LENGTH})
                    )
                values = [query]
            if values:
                normalised.setlist(name, values)
        return normalised

    @cached_property
    def refusals(self):
        """(parameter, value, reason) for each value the filters cannot use."""
        return [
            (name, (error.params or {}).get("value") or self.data.get(name, ""), REASONS[name])
            for name, errors in self.form.errors.as_data().items()
            for error in errors
        ]

    @cached_property
    def refused(self):
        """(parameter, sentence) for every parameter the filters could not use as given:
        what the API and the CSV export refuse, where a page drops it and says so."""
        judged = {name for name, _reason in self.cuts}
        return self.cuts + [
            (
                name,
                _("%(param)s “%(value)s”: %(reason)s")
                % {"param": name, "value": value, "reason": reason},
            )
            for name, value, reason in self.refusals
            if name not in judged
        ]

    def describe(self):
        """The applied filters as a short, file-name-safe text: status-approved_jurisdiction-BJ
        (several values joined with +, in the filters' order; the sort is left out)."""
        active = self.active
        parts = []
        for name in self.base_filters:
            if name in active:
                values = "+".join(value for value, _label in active[name])
                parts.append(f"{name}-{SAFE_NAME.sub('-', values).strip('-')}")
        return "_".join(parts)[:MAX_DESCRIPTION]

    @cached_property
    def problems(self):
        """What was left out of the filtering and why, as sentences."""
        refused = [
            # The sort parameter has no field on the page: it is named as in the address.
            ignored(name if name == "sort" else self.filters[name].label, value, reason)
            for name, value, reason in self.refusals
        ]
        return [*self._search_problems, *refused]

    @cached_property
    def active(self):
        """Parameter name -> the (value, label) pairs applied, for the page's chips."""
        if not self.is_valid() and not hasattr(self.form, "cleaned_data"):
            return {}
        active = {}
        cleaned = self.form.cleaned_data
        for name in ("status", "filing_type", "scope"):
            if cleaned.get(name):
                choices = dict(self.filters[name].extra["choices"])
                active[name] = [(value, choices[value]) for value in cleaned[name]]
        for name, field in LOOKUP_PARAMS.items():
            if cleaned.get(name):
                active[name] = [(getattr(obj, field), str(obj)) for obj in cleaned[name]]
        if cleaned.get("sector"):
            active["sector"] = [(value, value) for value in cleaned["sector"]]
        if cleaned.get("q"):
            active["q"] = [(cleaned["q"], cleaned["q"])]
        for name in DATE_PARAMS:
            if cleaned.get(name):
                active[name] = [(cleaned[name].isoformat(), cleaned[name].isoformat())]
        return active

    def qs_without(self, name):
        """The rows every applied filter but ``name`` selects, unordered: what the choices
        of ``name`` are counted in (tracker.public.facets)."""
        self.is_valid()
        queryset = self.queryset.all()
        for other, value in self.form.cleaned_data.items():
            if other not in (name, "sort"):
                queryset = self.filters[other].filter(queryset, value)
        return queryset.order_by()

    @property
    def applied_sort(self):
        """The sort the listing applies: the one asked for, or the default when it asked
        for none or for one that cannot be used."""
        self.is_valid()
        return (self.form.cleaned_data.get("sort") or [DEFAULT_SORT])[0]

    def qs_for_many_matches(self):
        """The same rows as ``qs`` in the same order, read so that a page of a search with
        many matches stops early; None when that would not help.

        Only the default order has an index to read along, and only words looked up in the
        search index can be checked row by row at no cost.
        """
        if not looks_up_in_index(self.form.cleaned_data.get("q") or "") or (
            self.applied_sort != DEFAULT_SORT
        ):
            return None
        self.search_in_index_order = True
        try:
            return self.filter_queryset(self.queryset.all())
        finally:
            self.search_in_index_order = False

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


def model_ids(filterset):
    """The ids of the models ``filterset`` selects, for a subquery; None when it selects
    every model (a sort alone selects them all)."""
    filterset.is_valid()
    cleaned = getattr(filterset.form, "cleaned_data", {})
    if not any(value for name, value in cleaned.items() if name != "sort"):
        return None
    return filterset.qs.order_by().values("pk")


def parse_since(raw):
    """An ISO date or date and time; without a time zone, in China's time."""
    moment = parse_datetime(raw)
    if moment is None:
        day = parse_date(raw)
        if day is None:
            raise ValueError(_("not an ISO date or date and time, e.g. 2026-08-01T09:00:00+08:00."))
        moment = parse_datetime(f"{day.isoformat()}T00:00:00")
    if is_naive(moment):
        moment = make_aware(moment, get_current_timezone())
    try:
        # In UTC, as the database compares it: the first and last days of the calendar
        # cannot always be moved there.
        return moment.astimezone(datetime.UTC)
    except OverflowError:
        raise ValueError(_("a moment out of range.")) from None


def filtered_changes(filterset, since=None):
    """Every status step of the models ``filterset`` selects, recorded at or after
    ``since``, newest first: the change feed and the API's changes."""
    changes = StatusChange.objects.all()
    ids = model_ids(filterset)
    if ids is not None:
        changes = changes.filter(model__in=ids)
    if since is not None:
        changes = changes.filter(recorded_at__gte=since)
    # Every step has a recording time: the order needs no place for unknown ones, and
    # statuschange_recorded_idx holds it on both databases.
    return changes.order_by(F("recorded_at").desc(), "pk")


def filtered_corrections(filterset, since=None):
    """Every correction of the models ``filterset`` selects, made at or after ``since``,
    newest first: with the status steps, the changes the feed and the API list."""
    corrections = Correction.objects.filter(record_type=RecordType.MODEL, kind=ChangeKind.EDIT)
    # The trail outlives a deleted model: only the corrections of models there are.
    ids = model_ids(filterset)
    corrections = corrections.filter(
        record_id__in=AIModel.objects.values("pk") if ids is None else ids
    )
    if since is not None:
        corrections = corrections.filter(changed_at__gte=since)
    return corrections.order_by(F("changed_at").desc(), "pk")
