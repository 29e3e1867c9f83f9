import itertools
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count
from django.http import QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import gettext, gettext_lazy

from tracker import audit, workflow
from tracker.analysis import charts, stats
from tracker.limits import SEARCH, limited, searches
from tracker.models import (
    AIModel,
    Applicant,
    Batch,
    JurisdictionResolver,
    RecordType,
    Sequence,
    Source,
    Status,
    choice_label,
    published_order,
)
from tracker.numbers import number_problems
from tracker.public import pagination
from tracker.public.conditional import conditional
from tracker.public.facets import facets
from tracker.public.filters import (
    APPLICANT_DEFAULT_SORT,
    APPLICANT_SORT_KEYS,
    DATE_PARAMS,
    DEFAULT_SORT,
    SORT_KEYS,
    STATUS_GROUPS,
    AIModelFilter,
    applicant_ordering,
    checked_query,
    checked_sort,
    localised_name,
)
from tracker.public.pagination import (
    page_links,
    paginate,
    paginate_models,
    query_url,
)

BATCH_PER_PAGE = 100


def _render_list(request, template, context, page, page_problem, params=None):
    """Render a listing page; ``params`` (the query string by default) make its links."""
    params = request.GET if params is None else params
    context |= {
        "page": page,
        "count_cap": pagination.COUNT_CAP,
        "page_problem": page_problem,
        "pagination": page_links(params, page),
        "first_page_url": query_url(params, page=None),
    }
    return render(request, template, context, status=404 if page is None else 200)


def _sort_columns(params, keys, current):
    """Each sort key's header link (by key, for the template's headers, which give the
    labels): the second click reverses the order."""
    result = {}
    for key in keys:
        if current == key:
            direction, target = "ascending", f"-{key}"
        elif current == f"-{key}":
            direction, target = "descending", key
        else:
            direction, target = "", key
        result[key] = {"url": query_url(params, sort=target, page=None), "direction": direction}
    return result


def _active_filters(filterset):
    """Each applied value with its label and a link to the same listing without it."""
    chips = []
    for name, values in filterset.active.items():
        for value, label in values:
            params = filterset.data.copy()
            params.setlist(name, [v for v in params.getlist(name) if v != value])
            chips.append(
                {
                    "param": filterset.filters[name].label,
                    "label": label,
                    "remove_url": query_url(params, page=None),
                }
            )
    return chips


def _date_fields(filterset):
    """The date inputs as given, a refused one marked for assistive technology (the
    problems above the listing say why)."""
    refused = {name for name, _value, _reason in filterset.refusals}
    return [
        {
            "name": name,
            "label": filterset.filters[name].label,
            "value": filterset.data.get(name, ""),
            "invalid": name in refused,
        }
        for name in DATE_PARAMS
    ]


def usable(filterset):
    """The listing's parameters without those it ignored: the same rows as a CSV, which
    refuses what the page ignores."""
    params = filterset.data.copy()
    for name, _value, _reason in filterset.refusals:
        params.pop(name, None)
    return params


def _address(name, params):
    return f"{reverse(name)}{query_url(params)}".rstrip("?")


def _one_filter(name, value):
    params = QueryDict(mutable=True)
    params[name] = value
    return params


def format_links(params):
    """The rows of a listing filtered by ``params`` (the /models/ filters, all usable) as
    CSV, JSON and an Atom feed of their changes: each link carries what its target takes
    (the feed follows changes as they come, in no other order)."""
    unsorted = params.copy()
    unsorted.pop("sort", None)
    return {
        "csv": _address("data:models_export", params),
        "json": _address("api:model-list", params),
        "atom": _address("data:changes_feed", unsorted),
    }


# The filters a title of /models/ puts in words, each a phrase around the title so far.
TITLE_PHRASES = (
    ("jurisdiction", gettext_lazy("%(models)s in %(value)s")),
    ("applicant", gettext_lazy("%(models)s by %(value)s")),
    ("batch", gettext_lazy("%(models)s in %(value)s")),
    ("q", gettext_lazy("%(models)s matching “%(value)s”")),
)
# And those it adds in brackets: "Approved models in Beijing (Registration)".
TITLE_DETAILS = ("filing_type", "scope", "sector")


def listing_title(filterset):
    """The title of /models/ for its applied filters (``AIModelFilter.active``), short
    enough for a tab and a link preview: "Approved models in Beijing"."""
    active = filterset.active

    def values(name):
        return Truncator(" / ".join(str(label) for _value, label in active[name])).chars(60)

    if "status" in active:
        title = gettext("%(status)s models") % {"status": values("status")}
    else:
        title = gettext("Models")
    for name, phrase in TITLE_PHRASES:
        if name in active:
            title = phrase % {"models": title, "value": values(name)}
    details = [values(name) for name in TITLE_DETAILS if name in active]
    details += [f"{filterset.filters[n].label} {values(n)}" for n in DATE_PARAMS if n in active]
    if details:
        title = gettext("%(models)s (%(details)s)") % {
            "models": title,
            "details": gettext(", ").join(details),
        }
    return title


@conditional
@limited(SEARCH, when=searches, page=True)
def model_list(request):
    filterset = AIModelFilter(request.GET)
    queryset = filterset.qs
    page, page_problem = paginate_models(
        request,
        queryset,
        many_matches=filterset.qs_for_many_matches(),
        counter=filterset.count_in_search_index,
    )
    params = filterset.data
    sort = filterset.applied_sort
    register = stats.RegisterStats()
    # For the batch filter and the coverage line alike.
    batches = list(Batch.objects.all())
    context = {
        "coverage": register.coverage(batches=batches),
        "filterset": filterset,
        "listing_title": listing_title(filterset),
        "problems": filterset.problems,
        "active_filters": _active_filters(filterset),
        "columns": _sort_columns(params, SORT_KEYS, sort),
        # The form carries a sort it can use, never an ignored one.
        "sort": "" if sort == DEFAULT_SORT else sort,
        "query": params.get("q", ""),
        # An empty result of a search alone means the name is in no published list.
        "search_only": set(filterset.active) == {"q"},
        "dates": _date_fields(filterset),
        "formats": format_links(usable(filterset)),
        "facets": facets(filterset, register, batches),
        # The filter panel opens on the choices already made beyond a search.
        "filters_open": bool(set(filterset.active) - {"q", "applicant"}),
        "applicants": filterset.active.get("applicant", []),
    }
    return _render_list(request, "tracker/model_list.html", context, page, page_problem, params)


@conditional
def model_detail(request, slug):
    ai_model = get_object_or_404(
        AIModel.objects.public().select_related("upstream__applicant"),
        slug=slug,
    )
    context = {
        "ai_model": ai_model,
        "number_problems": number_problems(
            ai_model.filing_number, ai_model.filing_type, JurisdictionResolver().region_tokens
        ),
        "sources": ai_model.sources.all(),
        "registrations": ai_model.registrations.for_listing().order_by(*published_order()),
        "history": workflow.timeline(ai_model),
        "corrections": audit.shown(audit.history_of(RecordType.MODEL, ai_model.pk)),
    }
    return render(request, "tracker/model_detail.html", context)


def _count_models(applicants):
    """Each applicant's models in each of ``STATUS_GROUPS`` (``n_models``, ``n_approved``,
    …), counted for these applicants only (one query)."""
    counts = AIModel.objects.filter(applicant__in=applicants).status_counts("applicant")
    for applicant in applicants:
        for name, statuses in STATUS_GROUPS.items():
            n = sum(counts.get((applicant.pk, status), 0) for status in statuses)
            setattr(applicant, f"n_{name}", n)


@conditional
@limited(SEARCH, when=searches, page=True)
def applicant_list(request):
    query, problems = checked_query(request.GET.get("q", ""))
    sort, sort_problems = checked_sort(
        request.GET.get("sort", ""), APPLICANT_SORT_KEYS, APPLICANT_DEFAULT_SORT
    )
    queryset = (
        Applicant.objects.search(query)
        .select_related("jurisdiction")
        .order_by(*applicant_ordering(sort))
    )
    page, page_problem = paginate(request, queryset)
    if page is not None:
        page.object_list = list(page.object_list)
        _count_models(page.object_list)
    context = {
        "query": query,
        "problems": problems + sort_problems,
        "columns": _sort_columns(request.GET, APPLICANT_SORT_KEYS, sort),
        # The search form keeps a sort other than the default.
        "sort": "" if sort == APPLICANT_DEFAULT_SORT else sort,
    }
    return _render_list(request, "tracker/applicant_list.html", context, page, page_problem)


@conditional
def applicant_detail(request, slug):
    applicant = get_object_or_404(
        Applicant.objects.select_related("jurisdiction", "parent"), slug=slug
    )
    models = AIModel.objects.for_listing().filter(applicant=applicant)
    page, page_problem = paginate_models(request, models.order_by(*published_order()))
    counts = models.status_counts("applicant")
    context = {
        "applicant": applicant,
        "models": page.object_list if page else [],
        "status_counts": [
            (label, counts[(applicant.pk, value)])
            for value, label in Status.choices
            if (applicant.pk, value) in counts
        ],
        "subsidiaries": applicant.subsidiaries.order_by(localised_name().asc(), "pk"),
        "formats": format_links(_one_filter("applicant", applicant.slug)),
    }
    return _render_list(request, "tracker/applicant_detail.html", context, page, page_problem)


@conditional
def batch_list(request):
    page, page_problem = paginate(request, Batch.objects.all())
    if page is not None:
        page.object_list = stats.RegisterStats().with_entered_counts(list(page.object_list))
    return _render_list(request, "tracker/batch_list.html", {}, page, page_problem)


# A batch page's order: the published tables in turn (national filings, on-device filings,
# registrations: the sequences' values sort so), each by approval date (the rounds the news
# reported), then as published; aimodel_batch_round_idx holds it.
BATCH_ORDER = ("sequence", "approved_on", "seq_no", "pk")


@conditional
def batch_detail(request, slug):
    batch = get_object_or_404(Batch, slug=slug)
    stats.RegisterStats().with_entered_counts([batch])
    models = AIModel.objects.for_listing().filter(batch=batch).order_by(*BATCH_ORDER)
    page, page_problem = paginate(request, models, BATCH_PER_PAGE)
    context = {
        "batch": batch,
        "rounds": _rounds(batch, page) if page else [],
        "models_url": f"{reverse('tracker:model_list')}?batch={batch.slug}",
        "formats": format_links(_one_filter("batch", batch.slug)),
    }
    return _render_list(request, "tracker/batch_detail.html", context, page, page_problem)


@dataclass
class Round:
    """One approval date of one table of a batch, as far as a page shows it."""

    label: str
    day: object
    total: int  # the round's models, on every page
    continued: bool  # the round began on an earlier page
    sources: list
    rows: list


def _rounds(batch, page):
    """A batch page's rows in ``Round``s, each with the reports that named its models.

    The rounds follow ``BATCH_ORDER``; a round's place in the whole batch, counted from the
    rounds' sizes, tells whether it began on an earlier page.
    """
    rows = list(page.object_list)
    sizes = batch.models.order_by().values_list("sequence", "approved_on").annotate(n=Count("pk"))
    totals = {(sequence, day): n for sequence, day, n in sizes}
    # The database's order: rows without an approval date first on SQLite, last on
    # PostgreSQL.
    nulls_last = connection.features.nulls_order_largest
    starts, position = {}, 0
    for key in sorted(totals, key=lambda k: (k[0], (k[1] is None) == nulls_last, k[1] or "")):
        starts[key], position = position, position + totals[key]
    cited = {}
    for source, model_id in Source.objects.filter(ai_models__in=rows).values_list(
        "pk", "ai_models"
    ):
        cited.setdefault(model_id, set()).add(source)
    sources = Source.objects.in_bulk({pk for pks in cited.values() for pk in pks})
    rounds = []
    for key, members in itertools.groupby(rows, key=lambda m: (m.sequence, m.approved_on)):
        members = list(members)
        named = sorted({pk for m in members for pk in cited.get(m.pk, ())})
        rounds.append(
            Round(
                label=choice_label(Sequence, key[0]),
                day=key[1],
                total=totals[key],
                continued=starts[key] < page.start_index() - 1,
                sources=[sources[pk] for pk in named],
                rows=members,
            )
        )
    return rounds


LATEST_BATCHES = 5


@conditional
def overview(request):
    register = stats.RegisterStats()
    timeline = register.batch_timeline()
    context = {
        "summary": register.summary,
        "median_wait": register.median_wait(),
        "timeline": timeline,
        "coverage": register.coverage(timeline),
        "latest_batches": timeline[::-1][:LATEST_BATCHES],
        "chart": charts.cumulative_chart(timeline),
    }
    return render(request, "tracker/overview.html", context)


@conditional
def backlog(request):
    register = stats.RegisterStats()
    summary = register.summary
    # The backlog's size is among the cached numbers: the listing need not count it again.
    page, page_problem = paginate_models(request, AIModel.objects.backlog(), count=summary.backlog)
    context = {
        "summary": summary,
        "median_wait": register.median_wait(),
        "undated": summary.backlog - summary.backlog_dated,
    }
    return _render_list(request, "tracker/backlog.html", context, page, page_problem)
