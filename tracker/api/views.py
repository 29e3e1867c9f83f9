"""The read-only JSON API under /api/v1/: models, applicants, batches and changes.

Every answer is public data: conditional (ETag and Last-Modified from the register stamp,
``304`` when current), cacheable, readable from any origin, and rate-limited per client.
Listings page with a cursor (tracker.api.pagination) and refuse parameters they cannot
use (tracker.api.filters).
"""

from functools import wraps

from django.db.models import F
from django.http import Http404, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse
from django.utils.decorators import classonlymethod
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, routers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from tracker.api import serializers
from tracker.api.filters import (
    ApplicantFilter,
    BatchFilter,
    RegisterFilterBackend,
    unknown_refusals,
)
from tracker.api.pagination import KeysetPagination, MergedKeysetPagination
from tracker.api.problems import InvalidParameters
from tracker.models import AIModel, Applicant, Batch, StatusChange, sorted_by
from tracker.public.conditional import conditional
from tracker.public.filters import (
    AIModelFilter,
    filtered_changes,
    filtered_corrections,
    parse_since,
)

EXPOSED_HEADERS = "ETag, Last-Modified, Retry-After"


def cross_origin(view):
    """Any site's scripts may read the API: it serves public data and takes no
    credentials."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        if request.method == "OPTIONS":
            response["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            response["Access-Control-Allow-Headers"] = "If-None-Match, If-Modified-Since"
            response["Access-Control-Max-Age"] = "86400"
        return response

    return wrapped


def public_answer(view):
    """A view as every API answer is served: conditional, then readable from any origin."""
    return cross_origin(conditional(view))


class APIRoot(routers.APIRootView):
    """The API's resources, each with its address."""

    @classonlymethod
    def as_view(cls, **initkwargs):
        return public_answer(super().as_view(**initkwargs))


@cross_origin
def add_slash(request):
    """An address without its final slash: redirected, with the header a browser on
    another site needs to follow the redirect (CommonMiddleware's has none)."""
    target = f"{request.path}/"
    try:
        found = resolve(target).url_name != "not_found"
    except Resolver404:
        found = False
    if not found:
        return NotFound.as_view()(request)
    query = request.META.get("QUERY_STRING", "")
    response = HttpResponseRedirect(f"{target}?{query}" if query else target)
    # 308: the client repeats the same request at the new address.
    response.status_code = 308
    return response


class NotFound(APIView):
    """Any other address under the API: a problem document, as every error is."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise exceptions.NotFound(_("No such address in the API; it starts at /api/v1/."))

    @classonlymethod
    def as_view(cls, **initkwargs):
        return cross_origin(super().as_view(**initkwargs))


class PublicViewSet(viewsets.GenericViewSet):
    """A read-only listing of rows (``serializer_class.rows``); a RecordViewSet adds its
    records (``detail_serializer_class.rows``), found by slug."""

    pagination_class = KeysetPagination
    filter_backends = [RegisterFilterBackend]
    lookup_field = "slug"
    detail_serializer_class = None

    @classonlymethod
    def as_view(cls, actions=None, **initkwargs):
        return public_answer(super().as_view(actions, **initkwargs))

    def get_serializer_class(self):
        if self.action == "retrieve":
            return self.detail_serializer_class
        return self.serializer_class

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "links": serializers.Links(self.request),
            "labels": serializers.labels(),
            "models_url": self.request.build_absolute_uri(reverse("api:model-list")),
        }

    def get_object(self):
        matches = self.get_queryset().filter(slug=self.kwargs["slug"])
        row = self.detail_serializer_class.rows(matches).first()
        if row is None:
            raise Http404
        return row

    def narrow(self, queryset, filterset, extra):
        """The listing for the checked filters."""
        return filterset.qs

    def checked(self, request):
        """The listing for the request's parameters, all checked before any is refused:
        the answer names them all."""
        refusals = self.paginator.check(request)
        try:
            listing = self.filter_queryset(self.get_queryset())
        except InvalidParameters as refused:
            refusals = refused.params + refusals
        if refusals:
            raise InvalidParameters(refusals)
        return listing

    def list(self, request, *args, **kwargs):
        rows = self.paginate_queryset(self.checked(request))
        records = self.get_serializer(rows, many=True).to_representation(rows)
        return self.get_paginated_response(records)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response.add_post_render_callback(let_go)
        return response


def let_go(response):
    """Once written, an answer keeps its bytes alone. The records it was written from
    would otherwise stay until the next full garbage collection: the view and the answer
    refer to each other (``view.response``, ``renderer_context``), and a full collection
    after a walk of many pages of 1,000 records takes a tenth of a second or more."""
    response.data = None


class RecordViewSet(PublicViewSet):
    """A listing whose records each have an address of their own."""

    def retrieve(self, request, *args, **kwargs):
        # A record takes no parameters: one given is a mistake, said as on the listings.
        refusals = unknown_refusals(request.query_params, ())
        if refusals:
            raise InvalidParameters(refusals)
        return Response(self.get_serializer(self.get_object()).data)


def documented(listing, record, slug_of):
    """The OpenAPI descriptions of a listing and of its records."""
    return extend_schema_view(
        list=extend_schema(description=listing),
        retrieve=extend_schema(
            description=record,
            parameters=[
                OpenApiParameter(
                    "slug", str, OpenApiParameter.PATH, description=f"The {slug_of}'s slug."
                )
            ],
        ),
    )


@documented(
    "Models and services, filtered and sorted as /models/ is: newest approval first unless "
    "sort says otherwise.",
    "One model or service, with its description, other names, status history, the "
    "registrations that call it and the reports that name it.",
    "model",
)
class AIModelViewSet(RecordViewSet):
    """Models and services, filtered and sorted as /models/ is."""

    queryset = AIModel.objects.all()
    serializer_class = serializers.AIModelSerializer
    detail_serializer_class = serializers.AIModelDetailSerializer
    filterset_class = AIModelFilter


@documented(
    "Applicants, in the order they were entered.",
    "One applicant, with the number of its models in each status.",
    "applicant",
)
class ApplicantViewSet(RecordViewSet):
    """Applicants, in the order they were entered."""

    queryset = Applicant.objects.all()
    serializer_class = serializers.ApplicantSerializer
    detail_serializer_class = serializers.ApplicantDetailSerializer
    filterset_class = ApplicantFilter

    def narrow(self, queryset, filterset, extra):
        return filterset.qs.order_by(*sorted_by(F("id")))


@documented(
    "The published lists (batches), newest first, with the totals their notices announced.",
    "One published list.",
    "batch",
)
class BatchViewSet(RecordViewSet):
    """The published lists, newest first."""

    queryset = Batch.objects.all()
    serializer_class = serializers.BatchSerializer
    detail_serializer_class = serializers.BatchDetailSerializer
    filterset_class = BatchFilter

    def narrow(self, queryset, filterset, extra):
        return filterset.qs.order_by(*sorted_by(F("announced_on"), descending=True))


@extend_schema_view(
    list=extend_schema(
        description="Every status step of every model, newest recorded first. The /models/ "
        "filters narrow them to the steps of the models they select; since starts them at "
        "a date."
    )
)
class ChangeViewSet(PublicViewSet):
    """Every status step, newest recorded first; the /models/ filters narrow them to the
    steps of the models they select."""

    queryset = StatusChange.objects.all()
    serializer_class = serializers.ChangeSerializer
    filterset_class = AIModelFilter
    pagination_class = MergedKeysetPagination
    excluded_params = ("sort",)
    extra_params = {"since": parse_since}

    def narrow(self, queryset, filterset, extra):
        since = extra.get("since")
        return [
            (
                "correction",
                filtered_corrections(filterset, since),
                "changed_at",
                serializers.ChangeSerializer.CORRECTION_FIELDS,
            ),
            (
                "status",
                filtered_changes(filterset, since),
                "recorded_at",
                serializers.ChangeSerializer.STEP_FIELDS,
            ),
        ]

    def list(self, request, *args, **kwargs):
        sources = self.checked(request)
        rows = self.paginator.paginate_sources(sources)
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)
