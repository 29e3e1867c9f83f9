"""Pages of a listing: a paginator that counts no further than it must, and the links
between pages."""

from django.core.paginator import EmptyPage, InvalidPage, Page, Paginator
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from tracker.models import AIModel

PER_PAGE = 50
# Listings count at most this many rows (and one more, to know there are more): counting
# every match of a broad filter on a large register would read most of an index.
COUNT_CAP = 10_000
# A page within the first 1/EARLY_PAGE_SHARE of a result is read along the listing's
# index when that suits many matches: it is reached before a sort of every match ends.
EARLY_PAGE_SHARE = 10
# Beyond this a page number is refused rather than sent to the database as an offset.
MAX_PAGE = 1_000_000


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
    it serves the pages of a capped count and the early pages of a long result.
    """

    def __init__(self, object_list, per_page, count=None, many_matches=None, counter=None):
        super().__init__(object_list, per_page)
        self.many_matches = object_list if many_matches is None else many_matches
        self.counter = counter
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
            return self._get_page(rows[bottom:top], number, self)
        rows = list(self.many_matches[bottom : bottom + self.per_page + 1])
        if not rows:
            raise EmptyPage(self.error_messages["no_results"])
        return CappedPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)


def paginate(request, queryset, per_page=PER_PAGE, count=None, many_matches=None, counter=None):
    """The requested page, or None and a sentence when that page does not exist."""
    paginator = CappedPaginator(queryset, per_page, count, many_matches, counter)
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

    Counting and skipping to a deep page then read only the narrow index that serves the
    filter and the order, and the joins of select_related run for the page's rows alone.
    """
    if many_matches is not None:
        many_matches = many_matches.values_list("pk", flat=True)
    page, problem = paginate(
        request, queryset.values_list("pk", flat=True), per_page, count, many_matches, counter
    )
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
