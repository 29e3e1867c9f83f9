"""The filters of /models/, shared by the listing, the feed and the CSV export.

A bad value never raises: it is dropped from the filtering and described in
``AIModelFilter.problems`` so the page can say what it ignored.
"""

import datetime
import functools
import operator
import unicodedata

import django_filters
from django import forms
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    F,
    Func,
    Q,
    TextField,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
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
from tracker.text import normalise_name

MAX_QUERY_LENGTH = 200
MAX_SEARCH_TERMS = 10
TRIGRAM = 3
SQLITE_SEARCH_SQL = "SELECT rowid FROM tracker_aimodel_search WHERE tracker_aimodel_search MATCH %s"
# The models holding a word of two characters: the trigrams starting with it, a range of
# the index's vocabulary (migration 0002). The word is lower-cased as the index folds it,
# which holds for ASCII and for characters without case (see _folds_as_indexed).
SQLITE_SHORT_TERM_SQL = (
    "SELECT doc FROM tracker_aimodel_search_terms WHERE term >= %s AND term < %s"
)
LAST_CHARACTER = chr(0x10FFFF)
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


def search_condition(query, in_index_order=False):
    """Every word must match one of the names (model or applicant) or the filing number.

    ``search_text`` holds the four names, so no join is needed. On SQLite words of two
    characters or more are looked up in the trigram index of migration 0002,
    which matches substrings ignoring case as LIKE does: longer words by their trigrams,
    two-character ones as the start of a trigram. A single character, which starts too
    many trigrams to be worth it, is matched with LIKE. On PostgreSQL words are matched
    with LIKE, which trigram indexes serve from three characters on (migration 0002);
    two-character words are looked up in a bigram index (migration 0002).

    With ``in_index_order``, SQLite reads the models along the index of the listing's
    order and checks each against the index's matches, stopping at the end of the page,
    instead of sorting every match: faster when matches are many, slower when few.
    """
    terms = query.split()[:MAX_SEARCH_TERMS]
    indexed = _indexed_terms(query)
    conditions = [_unindexed_condition(term) for term in terms if term not in indexed]
    conditions += [
        _in_search_index(sql, params, in_index_order) for sql, params in _lookups(indexed)
    ]
    return functools.reduce(operator.and_, conditions, Q())


def _lookups(terms):
    """(sql, params) of subqueries of the search index, each giving the ids of the models
    holding some of ``terms``; a model holds them all when every subquery gives its id."""
    lookups = [
        (SQLITE_SHORT_TERM_SQL, [term.lower(), term.lower() + LAST_CHARACTER])
        for term in terms
        if len(term) < TRIGRAM
    ]
    long_terms = [term for term in terms if len(term) >= TRIGRAM]
    if long_terms:
        match = " AND ".join('"{}"'.format(term.replace('"', '""')) for term in long_terms)
        lookups.append((SQLITE_SEARCH_SQL, [match]))
    return lookups


def search_index_count(query, limit):
    """How many models match ``query``, counting no further than ``limit``, from the search
    index alone; None when a word of it is not looked up there.

    Every model has one entry in the index (migration 0002's triggers), so the index's
    count is the models' count without a read of the models' table.
    """
    indexed = _indexed_terms(query)
    if not indexed or len(indexed) < len(query.split()[:MAX_SEARCH_TERMS]):
        return None
    lookups = _lookups(indexed)
    # A word of two characters gives a model once per occurrence; INTERSECT and DISTINCT
    # give it once.
    sql = " INTERSECT ".join(f"SELECT * FROM ({sql})" for sql, _ in lookups)
    if len(lookups) == 1:
        sql = f"SELECT DISTINCT * FROM ({lookups[0][0]})"
    params = [param for _, lookup_params in lookups for param in lookup_params]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({sql} LIMIT %s)", [*params, limit])
        return cursor.fetchone()[0]


def _unindexed_condition(term):
    """A word not looked up in SQLite's search index: on PostgreSQL a two-character one is
    looked up in its bigram index, any other is matched with LIKE."""
    if connection.vendor == "postgresql" and len(term) == 2:
        return Q(HoldsBigram(F("search_text"), Cast("filing_number", TextField()), Value(term)))
    return Q(search_text__icontains=term) | Q(filing_number__icontains=term)


class HoldsBigram(Func):
    """PostgreSQL: whether a model's searched text (search text, filing number) holds a
    two-character word, ignoring case; written as the expression of the bigram index of
    migration 0002, which the planner needs to use it."""

    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra_context):
        (text, text_params), (number, number_params), (word, word_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        sql = f"tracker_bigrams(UPPER({text} || chr(31) || {number})) @> ARRAY[UPPER({word})]"
        return sql, (*text_params, *number_params, *word_params)


class InSearchMatches(Func):
    """SQLite: whether a model's primary key is among a search index subquery's, read so
    that the planner keeps to the listing's order index: a unary + keeps it from looking
    the matches up by primary key instead."""

    output_field = BooleanField()

    def __init__(self, sql, params):
        super().__init__(F("pk"))
        self.sql, self.params = sql, params

    def as_sql(self, compiler, connection, **extra_context):
        pk, pk_params = compiler.compile(self.get_source_expressions()[0])
        return f"+{pk} IN ({self.sql})", (*pk_params, *self.params)


def _in_search_index(sql, params, in_index_order):
    if in_index_order:
        return Q(InSearchMatches(sql, params))
    return Q(pk__in=RawSQL(sql, params))


def _indexed_terms(query):
    """The words of ``query`` looked up in the search index (SQLite only)."""
    if connection.vendor != "sqlite":
        return []
    return [
        term
        for term in query.split()[:MAX_SEARCH_TERMS]
        if len(term) >= TRIGRAM or (len(term) == 2 and _folds_as_indexed(term))
    ]


def _folds_as_indexed(word):
    """Whether the search index folds ``word`` as str.lower() does: ASCII and characters
    without case do; other cased letters (ς, İ, …) fold otherwise there, and unassigned
    code points are not all kept, so such words are matched with LIKE."""
    return all(
        character.isascii()
        or (
            character.lower() == character == character.upper()
            and unicodedata.category(character) != "Cn"
        )
        for character in word
    )


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
        if not _indexed_terms(cleaned.get("q") or "") or (
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
