"""Cursor paging that holds while rows are added: each page starts after the last row of
the page before, found by its place in the listing's order (its sort value and id), never
by an offset.

Every listing is ordered as ``sorted_by`` orders it: one expression with unknown values
last, then the id. A page after the row (v, id) is read as up to three index-friendly
queries, each taken only while the page has room: the rows with the same value and a
larger id, the rows with a value further along, and (when v is known) the rows without a
value. A row added while a client walks a listing appears once or not at all, and no row
is ever served twice or skipped.
"""

import datetime
from collections import OrderedDict

from django.core import signing
from django.core.cache import cache
from django.db import connection
from django.db.models import BooleanField, F
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from tracker import stamp
from tracker.api.problems import InvalidParameters
from tracker.public.conditional import fingerprint, question
from tracker.public.filters import repeated
from tracker.public.pagination import COUNT_CAP, POSITION, listing_order, parts_after

PAGING_PARAMS = ("cursor", "page_size")
CURSOR_SALT = "tracker.api.cursor"
# A count is kept under the register's stamp, which a write changes: the timeout only lets
# the entries of an idle register go.
COUNT_TIMEOUT = 60 * 60
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def _encode_value(value):
    if isinstance(value, tuple):
        return [_encode_value(part) for part in value]
    if isinstance(value, datetime.datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"d": value.isoformat()}
    if isinstance(value, datetime.timedelta):
        return {"t": value // datetime.timedelta(microseconds=1)}
    return value


def _decode_value(value):
    if isinstance(value, list):
        return tuple(_decode_value(part) for part in value)
    if isinstance(value, dict):
        (kind, raw), *_rest = value.items()
        if kind == "dt":
            return datetime.datetime.fromisoformat(raw)
        if kind == "d":
            return datetime.date.fromisoformat(raw)
        if kind == "t":
            return datetime.timedelta(microseconds=int(raw))
        raise ValueError(kind)
    if value is None or isinstance(value, str | int):
        return value
    raise ValueError(value)


def among(model, ids):
    """A condition: the row's id is one of ``ids``. Written out, not as ``pk__in``: the
    ids are integers the page's own query read, and compiling a thousand parameters one by
    one took a twentieth of a page's time."""
    listed = ",".join(str(int(pk)) for pk in ids) or "NULL"
    column = f"{connection.ops.quote_name(model._meta.db_table)}.{connection.ops.quote_name('id')}"
    return RawSQL(f"{column} IN ({listed})", [], output_field=BooleanField())


class KeysetPagination(BasePagination):
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"

    def check(self, request):
        """Read ``page_size`` and ``cursor``, refusing values the paging cannot use."""
        self.request = request
        refusals = repeated(request.query_params, PAGING_PARAMS)
        if refusals:
            return refusals
        try:
            self.page_size = self.requested_page_size(request)
        except InvalidParameters as refused:
            refusals += refused.params
        try:
            self.after = self.requested_position(request)
        except InvalidParameters as refused:
            refusals += refused.params
        return refusals

    def paginate_queryset(self, queryset, request, view=None):
        """A page of ``queryset``, after ``check``."""
        order = listing_order(queryset)
        if order is None:
            raise ValueError(f"Not a listing order: {queryset.query.order_by!r}")
        expression, descending = order
        after = self.after
        queryset = queryset.annotate(**{POSITION: expression})
        self.set_count(lambda: queryset.order_by()[: COUNT_CAP + 1].count())
        # The page's ids first, from a query that joins only what the filters need; then
        # its rows, by id (as the site's listings do: a sort of many matches stays narrow).
        keys = []
        for part in parts_after(queryset, descending, after):
            keys += part.values_list(POSITION, "pk")[: self.page_size + 1 - len(keys)]
            if len(keys) > self.page_size:
                break
        self.next_position = keys[self.page_size - 1] if len(keys) > self.page_size else None
        ids = [pk for _position, pk in keys[: self.page_size]]
        # In no order: the page puts them in its own, and the model's would sort them again.
        by_ids = queryset.model.objects.filter(among(queryset.model, ids)).order_by()
        rows = view.serializer_class.rows(by_ids, "pk")
        by_id = {row.pk: row for row in rows}
        # A row deleted in between is left out, as it would be a moment later.
        return [by_id[pk] for pk in ids if pk in by_id]

    def set_count(self, count):
        """``count`` (a function counting the matches up to the cap and one more), once per
        query and state of the register: the pages of one walk share it."""
        state = getattr(self.request, "register_state", None)
        if state is None:
            counted = count()
        else:
            key = f"tracker:api-count:{state.version}:{self.query_key(self.request)}"
            counted = cache.get(key)
            if counted is None:
                counted = count()
                cache.set(key, counted, COUNT_TIMEOUT)
        self.count, self.count_capped = min(counted, COUNT_CAP), counted > COUNT_CAP

    def requested_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return DEFAULT_PAGE_SIZE
        if not raw.isdecimal() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
            raise InvalidParameters(
                [
                    (
                        self.page_size_query_param,
                        _("page_size “%(value)s”: give a whole number from 1 to %(max)d.")
                        % {"value": raw, "max": MAX_PAGE_SIZE},
                    )
                ]
            )
        return int(raw)

    def query_key(self, request):
        """What a cursor is bound to: the path, the language and every parameter but the
        paging ones; and the day, for an order by days in review, which count to today."""
        parts = question(request, leave_out=PAGING_PARAMS)
        if request.query_params.get("sort", "").lstrip("-") == "days_in_review":
            parts = (*parts, timezone.localdate())
        return fingerprint(*parts)

    def requested_position(self, request):
        raw = request.query_params.get(self.cursor_query_param)
        if raw is None:
            return None
        # Signed: a cursor is only ever one this API gave, so its value fits the order.
        try:
            data = signing.loads(raw, salt=CURSOR_SALT)
            key, value, pk = data["q"], _decode_value(data["v"]), data["id"]
        except (signing.BadSignature, ValueError, TypeError, KeyError):
            reason = _("cursor: not a cursor this API gave; follow the “next” links as given.")
            raise InvalidParameters([(self.cursor_query_param, reason)]) from None
        if key != self.query_key(request):
            reason = _("cursor: it belongs to another query; follow the “next” links as given.")
            raise InvalidParameters([(self.cursor_query_param, reason)])
        return value, pk

    def encode_cursor(self, position):
        value, pk = position
        data = {"q": self.query_key(self.request), "v": _encode_value(value), "id": pk}
        return signing.dumps(data, salt=CURSOR_SALT, compress=True)

    def get_next_link(self):
        if self.next_position is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(
            url, self.cursor_query_param, self.encode_cursor(self.next_position)
        )

    def get_first_link(self):
        return remove_query_param(self.request.build_absolute_uri(), self.cursor_query_param)

    def get_paginated_response(self, data):
        state = getattr(self.request, "register_state", None) or stamp.current()
        return Response(
            OrderedDict(
                [
                    ("count", self.count),
                    ("count_capped", self.count_capped),
                    ("next", self.get_next_link()),
                    ("first", self.get_first_link()),
                    ("data_changed_at", state.changed_at if state else None),
                    ("results", data),
                ]
            )
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "count_capped", "next", "first", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "description": (
                        f"The number of matching records, counted up to {COUNT_CAP:,}."
                    ),
                },
                "count_capped": {
                    "type": "boolean",
                    "description": "True when there are more matching records than count says.",
                },
                "next": {
                    "type": ["string", "null"],
                    "format": "uri",
                    "description": "The next page, or null on the last page.",
                },
                "first": {"type": "string", "format": "uri", "description": "The first page."},
                "data_changed_at": {
                    "type": ["string", "null"],
                    "format": "date-time",
                    "description": "When the register last changed.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Where a page starts: take it from the previous page's next link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Records per page, 1 to {MAX_PAGE_SIZE} ({DEFAULT_PAGE_SIZE} "
                "unless given).",
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_PAGE_SIZE,
                    "default": DEFAULT_PAGE_SIZE,
                },
            },
        ]


class MergedKeysetPagination(KeysetPagination):
    """Several listings read as one, newest first: each source is (kind, queryset, the
    field holding its moment, the fields of its rows), its queryset ordered by that
    moment, newest first, then id. A position is (moment, kind) and id: at one moment,
    kinds in alphabetical order, each by id. A page reads up to a page and one row from
    each source after the position, and keeps the first page of them merged."""

    def paginate_sources(self, sources):
        self.set_count(
            lambda: sum(
                queryset.order_by()[: COUNT_CAP + 1].count() for _k, queryset, _m, _f in sources
            )
        )
        rows = []
        for kind, queryset, moment, fields in sources:
            read = []
            for part in self.source_parts(queryset, kind, moment):
                values = part.values("pk", *fields, **{POSITION: F(moment)})
                read += values[: self.page_size + 1 - len(read)]
                if len(read) > self.page_size:
                    break
            rows += [{**row, "kind": kind} for row in read]
        rows.sort(key=lambda row: (-row[POSITION].timestamp(), row["kind"], row["pk"]))
        self.next_position = None
        if len(rows) > self.page_size:
            last = rows[self.page_size - 1]
            self.next_position = ((last[POSITION], last["kind"]), last["pk"])
        return rows[: self.page_size]

    def source_parts(self, queryset, kind, moment):
        if self.after is None:
            return [queryset]
        (at, after_kind), pk = self.after
        parts = []
        if kind == after_kind:
            parts.append(queryset.filter(**{moment: at}, pk__gt=pk))
        elif kind > after_kind:
            parts.append(queryset.filter(**{moment: at}))
        parts.append(queryset.filter(**{f"{moment}__lt": at}))
        return parts
