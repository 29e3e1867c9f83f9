"""Pages of a listing: a paginator that counts no further than it must, reads a deep page
as cheaply as the first, and the links between pages."""

from django.core.cache import cache
from django.core.paginator import EmptyPage, InvalidPage, Page, Paginator
from django.db.models import OrderBy, Window
from django.db.models.functions import Mod, RowNumber
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from tracker import stamp
from tracker.models import AIModel
from tracker.public.conditional import fingerprint

PER_PAGE = 50
# Listings count at most this many rows (and one more, to know there are more): counting
# every match of a broad filter on a large register would read most of an index.
COUNT_CAP = 10_000
# A page within the first 1/EARLY_PAGE_SHARE of a result is read along the listing's
# index when that suits many matches: it is reached before a sort of every match ends.
EARLY_PAGE_SHARE = 10
# Beyond this a page number is refused rather than sent to the database as an offset.
MAX_PAGE = 1_000_000
# A deep page of a listing is read on from the place of the nearest earlier row whose number
# is a multiple of STRIDE, skipping fewer than STRIDE rows: an offset would read and drop
# every row before the page.
STRIDE = 500
# Pages before this row are read with an offset, which is cheap that early: the walk that
# finds the places reads the whole listing once, and is kept for the deep pages.
SEEK_FROM = 20 * STRIDE
# The places are kept under the register's stamp, which a write changes: the timeout only
# lets the entries of an idle register go.
PLACES_TIMEOUT = 60 * 60
POSITION = "_position"


def listing_order(queryset):
    """The (expression, descending) a listing is ordered by before its id, as ``sorted_by``
    orders every listing; None for any other order."""
    order_by = queryset.query.order_by
    if len(order_by) != 2 or not isinstance(order_by[0], OrderBy) or order_by[1] != "pk":
        return None
    return order_by[0].expression, order_by[0].descending


def parts_after(queryset, descending, after):
    """The querysets that, read in turn, continue a listing after the row at ``after``, its
    sort value (as ``POSITION``) and id: the rows with the same value and a larger id, the
    rows with a value further along, and (when the value is known) the rows without one,
    which every listing puts last. Each is read along the order, from where it starts."""
    if after is None:
        return [queryset]
    value, pk = after
    if value is None:
        return [queryset.filter(**{f"{POSITION}__isnull": True}, pk__gt=pk)]
    further = f"{POSITION}__lt" if descending else f"{POSITION}__gt"
    return [
        queryset.filter(**{POSITION: value}, pk__gt=pk),
        queryset.filter(**{further: value}),
        queryset.filter(**{f"{POSITION}__isnull": True}),
    ]


def places_key(listing):
    """The cache key of the places of ``listing`` (its ids in a listing order): its SQL
    says everything its rows and their order depend on (filters, sort, language, today
    for days in review), and the register's stamp their state. None when the places
    cannot be kept: inside a writing transaction, the stamp does not cover what it reads."""
    state = stamp.current()
    if state is None or not state.settled:
        return None
    return f"tracker:page-places:{state.version}:{fingerprint(*listing.query.sql_with_params())}"


def ids_from(queryset, listing, bottom, size):
    """Up to ``size`` ids of ``queryset`` from row ``bottom`` on, ``queryset`` holding the
    same ids as ``listing`` in the same order, read as suits its page. A deep page of a
    listing order is read on from the nearest earlier place (every ``STRIDE``-th row's sort
    value and id), found by one walk of the listing and kept until the register changes."""
    order = listing_order(listing)
    key = places_key(listing) if bottom >= SEEK_FROM and order is not None else None
    if key is None:
        return list(queryset[bottom : bottom + size])
    expression, descending = order
    places = cache.get(key)
    if places is None:
        places = walk(listing, expression)
        cache.set(key, places, PLACES_TIMEOUT)
    passed = bottom // STRIDE
    if passed > len(places):
        return []
    skip, ids = bottom - passed * STRIDE, []
    positioned = queryset.alias(**{POSITION: expression})
    for part in parts_after(positioned, descending, places[passed - 1]):
        ids += part[: skip + size - len(ids)]
        if len(ids) >= skip + size:
            break
    return ids[skip:]


def walk(listing, expression):
    """The (sort value, id) of rows ``STRIDE``, 2 × ``STRIDE``, … of ``listing`` (its ids
    in a listing order), in one query: the database numbers the rows as it reads them in
    order and hands back only these."""
    numbered = listing.annotate(
        **{POSITION: expression}, _row=Window(RowNumber(), order_by=list(listing.query.order_by))
    )
    return list(
        numbered.alias(_edge=Mod("_row", STRIDE)).filter(_edge=0).values_list(POSITION, "pk")
    )


class CappedPage(Page):
    """A page of a list whose count was capped: whether a next page exists is known from
    the page's own query, which fetches one row more than it shows."""

    def __init__(self, object_list, number, paginator, more):
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self):
        return self.more

    def end_index(self):
        return self.start_index() + len(self.object_list) - 1


class CappedPaginator(Paginator):
    """A paginator that counts no further than ``COUNT_CAP`` + 1 rows.

    When the count reaches the cap, ``capped`` is true and the count is only a lower
    bound: pages past the counted ones are still served when asked for, and a page with no
    rows is out of range. ``count`` may be given when the caller already knows it exactly,
    ``counter(limit)`` when it can count more cheaply than the rows' query (None when it
    cannot). ``many_matches`` is the same rows queried in a way that suits many matches:
    it serves the pages of a capped count and the early pages of a long result. With
    ``seek``, the rows are ids, and a deep page is read as ``ids_from`` reads it.
    """

    def __init__(
        self, object_list, per_page, count=None, many_matches=None, counter=None, seek=False
    ):
        super().__init__(object_list, per_page)
        self.many_matches = object_list if many_matches is None else many_matches
        self.counter = counter
        self.seek = seek
        self.exact = count is not None
        if self.exact:
            self.count = count

    @cached_property
    def count(self):
        counted = None if self.counter is None else self.counter(COUNT_CAP + 1)
        if counted is not None:
            return counted
        # Unordered: which rows are counted does not matter, and no sort has to run first.
        return self.object_list.order_by()[: COUNT_CAP + 1].count()

    @property
    def capped(self):
        return not self.exact and self.count > COUNT_CAP

    def validate_number(self, number):
        try:
            return super().validate_number(number)
        except EmptyPage:
            if not self.capped or not 1 <= int(number) <= MAX_PAGE:
                raise
            return int(number)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if not self.capped:
            top = min(bottom + self.per_page, self.count)
            early = top * EARLY_PAGE_SHARE <= self.count
            rows = self.many_matches if early else self.object_list
            return self._get_page(self.rows(rows, bottom, top - bottom), number, self)
        rows = list(self.rows(self.many_matches, bottom, self.per_page + 1))
        if not rows:
            raise EmptyPage(self.error_messages["no_results"])
        return CappedPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)

    def rows(self, queryset, bottom, size):
        """Up to ``size`` rows of ``queryset`` (``object_list`` or ``many_matches``) from
        row ``bottom`` on."""
        if not self.seek:
            return queryset[bottom : bottom + size]
        return ids_from(queryset, self.object_list, bottom, size)


def paginate(
    request,
    queryset,
    per_page=PER_PAGE,
    count=None,
    many_matches=None,
    counter=None,
    seek=False,
):
    """The requested page, or None and a sentence when that page does not exist."""
    paginator = CappedPaginator(queryset, per_page, count, many_matches, counter, seek)
    number = request.GET.get("page") or 1
    try:
        return paginator.page(number), ""
    except InvalidPage:
        if paginator.capped:
            return None, _(
                "There is no page “%(page)s” in this list: it has fewer rows. "
                "Start again from the first page."
            ) % {"page": str(number)[:20]}
        return None, _(
            "There is no page “%(page)s” in this list: it has %(n)d pages. "
            "Start again from the first page."
        ) % {"page": str(number)[:20], "n": paginator.num_pages}


def paginate_models(
    request, queryset, per_page=PER_PAGE, count=None, many_matches=None, counter=None
):
    """Like ``paginate``, for models: the page's ids first, then those rows in full.

    Counting and reaching a page then read only the narrow index that serves the filter and
    the order, and the joins of select_related run for the page's rows alone. A deep page
    of a listing order starts from the nearest known place before it (``ids_from``).
    """
    if many_matches is not None:
        many_matches = many_matches.values_list("pk", flat=True)
    ids = queryset.values_list("pk", flat=True)
    page, problem = paginate(request, ids, per_page, count, many_matches, counter, seek=True)
    if page is not None:
        page.object_list = AIModel.objects.for_listing().in_order(list(page.object_list))
    return page, problem


def query_url(params, **changes):
    """``params`` (a QueryDict) with ``changes`` applied, as "?…"; None removes a key."""
    query = params.copy()
    for key, value in changes.items():
        query.pop(key, None)
        if value is not None:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


def page_links(params, page):
    if page is None or not page.has_other_pages():
        return None
    number, capped = page.number, page.paginator.capped
    # A capped count does not say how many pages there are: no last page then.
    last = None if capped else page.paginator.num_pages
    known = max(page.paginator.num_pages, number + page.has_next()) if capped else last
    window = [n for n in range(number - 2, number + 3) if 1 <= n <= known]
    return {
        "first": query_url(params, page=None) if number > 1 else None,
        "previous": query_url(params, page=page.previous_page_number()) if number > 1 else None,
        "next": query_url(params, page=page.next_page_number()) if page.has_next() else None,
        "last": query_url(params, page=last) if last and number < last else None,
        "window": [(n, query_url(params, page=n), n == number) for n in window],
        "number": number,
        "last_number": last,
    }
