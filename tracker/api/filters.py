"""The API's filters: the site's own FilterSets through django-filter's DRF backend, made
strict. Where a page drops a bad value and says so, the API refuses the request with a
``400`` naming every parameter it cannot use: a misspelt name, a second value where one is
taken, a value the filter does not know, a search over the length limit.
"""

import django_filters
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.extensions import OpenApiFilterExtension

from tracker.api.pagination import PAGING_PARAMS
from tracker.api.problems import InvalidParameters
from tracker.models import Applicant, Batch, FilingType, Scope, Status
from tracker.public.filters import (
    DATE_PARAMS,
    LOOKUP_PARAMS,
    MAX_QUERY_LENGTH,
    SORT_KEYS,
    AIModelFilter,
    repeated,
)
from tracker.text import normalise_name


class ApplicantFilter(django_filters.FilterSet):
    """The filter of /applicants/: a search in either name."""

    q = django_filters.CharFilter(method="search", max_length=MAX_QUERY_LENGTH)

    descriptions = {
        "q": f"Words to find in either name; at most {MAX_QUERY_LENGTH} characters.",
    }

    class Meta:
        model = Applicant
        fields = []

    def search(self, queryset, name, value):
        return queryset.search(normalise_name(value))


class BatchFilter(django_filters.FilterSet):
    """No filters: the published lists are few. Its parameters are checked all the same."""

    class Meta:
        model = Batch
        fields = []


def value_refusals(params, filterset):
    """(parameter, reason) for each parameter ``filterset`` would not use as given."""
    if isinstance(filterset, AIModelFilter):
        return filterset.refused
    refusals = repeated(params, filterset.base_filters)
    judged = {name for name, _reason in refusals}
    filterset.is_valid()
    return refusals + [
        (name, f"{name}: {' '.join(errors)}")
        for name, errors in filterset.form.errors.items()
        if name not in judged
    ]


def unknown_refusals(params, known):
    """(parameter, reason) for each parameter not in ``known``."""
    if not known:
        return [
            (name, _("%(param)s: a record takes no parameters.") % {"param": name})
            for name in params
        ]
    return [
        (
            name,
            _("%(param)s: not a parameter of this list; it takes %(known)s.")
            % {"param": name, "known": ", ".join(known)},
        )
        for name in params
        if name not in known
    ]


class RegisterFilterBackend(DjangoFilterBackend):
    """A view's ``filterset_class``, with every parameter checked; ``extra_params`` of the
    view ({name: parser}) are parsed too, into ``request.extra_params``."""

    def filter_queryset(self, request, queryset, view):
        filterset = self.filterset(request.query_params, view)
        extra = getattr(view, "extra_params", {})
        excluded = getattr(view, "excluded_params", ())
        known = [name for name in (*filterset.base_filters, *extra) if name not in excluded]
        known += PAGING_PARAMS
        refusals = unknown_refusals(request.query_params, known)
        refusals += [
            (name, reason)
            for name, reason in value_refusals(request.query_params, filterset)
            if name not in excluded
        ]
        refusals += repeated(request.query_params, extra)
        parsed = {}
        for name, parser in extra.items():
            raw = request.query_params.get(name)
            if raw is not None:
                try:
                    parsed[name] = parser(raw)
                except ValueError as error:
                    refusals.append((name, f"{name} “{raw}”: {error}"))
        if refusals:
            raise InvalidParameters(refusals)
        return view.narrow(queryset, filterset, parsed)

    def filterset(self, params, view):
        """The view's FilterSet over its own model (a listing of changes filters the
        models whose changes it lists)."""
        filterset_class = view.filterset_class
        return filterset_class(params, queryset=filterset_class._meta.model.objects.all())


def _array(description, items):
    return {
        "in": "query",
        "required": False,
        "style": "form",
        "explode": True,
        "description": description,
        "schema": {"type": "array", "items": items},
    }


DESCRIPTIONS = {
    "q": "Words to find in the names (either language, pinyin too), other names and filing "
    f"number; at most {MAX_QUERY_LENGTH} characters.",
    "sector": "The sector as entered; several values match any of them.",
    "jurisdiction": "Jurisdiction codes (BJ, SH, …); several values match any of them.",
    "applicant": "Applicant slugs; several values match any of them.",
    "batch": "Batch slugs; several values match any of them.",
    "submitted_after": "Submitted on or after this date.",
    "submitted_before": "Submitted on or before this date.",
    "approved_after": "Approved on or after this date.",
    "approved_before": "Approved on or before this date.",
    "sort": "One column, with - for descending; newest approval first unless given. Unknown "
    "values sort last in either direction.",
    "since": "Only changes recorded at or after this ISO date or date and time (China's time "
    "unless a time zone is given).",
}
CHOICES = {"status": Status, "filing_type": FilingType, "scope": Scope}


def filter_parameters(view):
    """The OpenAPI parameters of a view's filters."""
    parameters = []
    descriptions = {**DESCRIPTIONS, **getattr(view.filterset_class, "descriptions", {})}
    for name in view.filterset_class.base_filters:
        if name in getattr(view, "excluded_params", ()):
            continue
        if name in CHOICES:
            param = _array(
                f"{name.replace('_', ' ').capitalize()}: several values match any of them.",
                {"type": "string", "enum": CHOICES[name].values},
            )
        elif name in (*LOOKUP_PARAMS, "sector"):
            param = _array(descriptions[name], {"type": "string"})
        elif name in DATE_PARAMS:
            param = {
                "in": "query",
                "required": False,
                "description": descriptions[name],
                "schema": {"type": "string", "format": "date"},
            }
        elif name == "sort":
            keys = [*SORT_KEYS, *(f"-{key}" for key in SORT_KEYS)]
            param = {
                "in": "query",
                "required": False,
                "description": descriptions[name],
                "schema": {"type": "string", "enum": keys},
            }
        else:
            param = {
                "in": "query",
                "required": False,
                "description": descriptions[name],
                "schema": {"type": "string", "maxLength": MAX_QUERY_LENGTH},
            }
        parameters.append({"name": name, **param})
    for name in getattr(view, "extra_params", {}):
        parameters.append(
            {
                "name": name,
                "in": "query",
                "required": False,
                "description": descriptions[name],
                "schema": {
                    "anyOf": [
                        {"type": "string", "format": "date-time"},
                        {"type": "string", "format": "date"},
                    ]
                },
            }
        )
    return parameters


class RegisterFilterSchema(OpenApiFilterExtension):
    """The filters' parameters as written above: the generic introspection would list
    every applicant and batch in the schema, reading them from the database."""

    target_class = "tracker.api.filters.RegisterFilterBackend"
    priority = 1

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        if getattr(auto_schema.view, "action", None) != "list":
            return []
        return filter_parameters(auto_schema.view)
