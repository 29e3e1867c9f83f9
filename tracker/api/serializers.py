"""What the API says of each record: public fields only, named one by one.

Listings read rows as named tuples (``ROW_FIELDS`` and ``row_expressions``, through
``RowSerializer.rows``), which is several times faster than building model instances and
running a serializer field by field; each serializer's declared fields document the same shape in
the OpenAPI schema, and the tests hold the two together.
"""

import datetime
from functools import cached_property

from django.utils import timezone
from rest_framework import serializers

from tracker import audit
from tracker.analysis.exports import DatabaseInteger, IsoDate, days_in_review_sql, url_maker
from tracker.api.pagination import POSITION
from tracker.models import (
    AIModel,
    ApplicantKind,
    Correction,
    DatePrecision,
    FilingType,
    Scope,
    Sequence,
    Source,
    Status,
    StatusChange,
    approval_estimated,
    choice_label,
    published_order,
)

# What a change of the register can be: a status step, or a correction of a public field.
CHANGE_KINDS = [("correction", "correction"), ("status", "status")]


class Links:
    """Absolute addresses of records, made without a ``reverse`` per row."""

    ROUTES = {
        "model": "api:model-detail",
        "model_page": "tracker:model_detail",
        "applicant": "api:applicant-detail",
        "applicant_page": "tracker:applicant_detail",
        "batch": "api:batch-detail",
        "batch_page": "tracker:batch_detail",
    }

    def __init__(self, request):
        base = request.build_absolute_uri("/")
        for name, route in self.ROUTES.items():
            setattr(self, name, url_maker(base, route))


def _links(serializer):
    return serializer.context["links"]


def labels():
    """Each status's and filing type's label in the active language, as plain text: the
    JSON encoder then writes them without a call per value."""
    return {
        "status": {value: str(label) for value, label in Status.choices},
        "filing_type": {value: str(label) for value, label in FilingType.choices},
    }


def day(value):
    """A date as ISO text: written by the encoder itself, not through a call per value."""
    return None if value is None else value.isoformat()


def moment(value):
    """A date and time as ISO text in UTC."""
    return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


class RowSerializer(serializers.Serializer):
    """A serializer of the rows ``values()`` reads: the fields named in ``ROW_FIELDS``, and
    the values the query computes (``row_expressions``)."""

    ROW_FIELDS = ()

    @staticmethod
    def row_expressions():
        return {}

    @classmethod
    def rows(cls, queryset, *also):
        """``queryset``'s rows as this serializer reads them, with the fields in ``also``:
        named tuples, each value an attribute (a dictionary per row takes a third longer
        to make)."""
        expressions = cls.row_expressions()
        return queryset.annotate(**expressions).values_list(
            *also, *cls.ROW_FIELDS, *expressions, named=True
        )


class JurisdictionSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Short code, as the jurisdiction filter takes it.")
    name_zh = serializers.CharField()
    name_en = serializers.CharField()


def jurisdiction(code, name_zh, name_en):
    if code is None:
        return None
    return {"code": code, "name_zh": name_zh, "name_en": name_en}


class ApplicantRefSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name_zh = serializers.CharField()
    name_en = serializers.CharField()
    url = serializers.URLField(help_text="This applicant in the API.")


class BatchRefSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    title_zh = serializers.CharField()
    title_en = serializers.CharField()
    announced_on = serializers.DateField()
    url = serializers.URLField(help_text="This batch in the API.")


class ModelRefSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name_zh = serializers.CharField()
    name_en = serializers.CharField()
    filing_number = serializers.CharField()
    url = serializers.URLField(help_text="This model in the API.")


def model_ref(links, slug, name_zh, name_en, filing_number):
    return {
        "slug": slug,
        "name_zh": name_zh,
        "name_en": name_en,
        "filing_number": filing_number,
        "url": links.model(slug),
    }


class AIModelSerializer(RowSerializer):
    """A model or service as listings give it."""

    ROW_FIELDS = (
        "slug",
        "name_zh",
        "name_en",
        "filing_type",
        "sequence",
        "seq_no",
        "scope",
        "sector",
        "status",
        "filing_number",
        "on_device_scenario",
        "applicant__slug",
        "applicant__name_zh",
        "applicant__name_en",
        "applicant__jurisdiction__code",
        "applicant__jurisdiction__name_zh",
        "applicant__jurisdiction__name_en",
        "batch__slug",
        "batch__title_zh",
        "batch__title_en",
        "upstream__slug",
        "upstream__name_zh",
        "upstream__name_en",
        "upstream__filing_number",
    )

    slug = serializers.SlugField()
    url = serializers.URLField(help_text="This record in the API.")
    html_url = serializers.URLField(help_text="This record's page on the site.")
    name_zh = serializers.CharField(help_text="Chinese name, as published (may be empty).")
    name_en = serializers.CharField(help_text="English name (may be empty).")
    filing_type = serializers.ChoiceField(
        FilingType.choices,
        help_text="filing: a model filed after review; registration: an "
        "app that calls a filed model.",
    )
    filing_type_label = serializers.CharField()
    sequence = serializers.ChoiceField(
        Sequence.choices, help_text="Which published table numbers the row (序号)."
    )
    seq_no = serializers.IntegerField(allow_null=True, help_text="序号 in that table.")
    scope = serializers.ChoiceField(Scope.choices)
    sector = serializers.CharField()
    status = serializers.ChoiceField(Status.choices)
    status_label = serializers.CharField(help_text="The status in the request's language.")
    filing_number = serializers.CharField(help_text="As published; empty while pending.")
    submitted_on = serializers.DateField(allow_null=True)
    approved_on = serializers.DateField(allow_null=True)
    approved_on_estimated = serializers.BooleanField(
        allow_null=True,
        help_text="True when the approval date is the day of the notice that listed it; "
        "null without an approval date.",
    )
    days_in_review = serializers.IntegerField(
        allow_null=True, help_text="Approved (or today, while pending) minus submitted."
    )
    on_device_scenario = serializers.CharField(help_text="适用场景 of an on-device filing.")
    applicant = ApplicantRefSerializer()
    jurisdiction = JurisdictionSerializer(allow_null=True)
    batch = BatchRefSerializer(allow_null=True)
    upstream = ModelRefSerializer(
        allow_null=True, help_text="For a registration: the filed model it calls."
    )

    @staticmethod
    def row_expressions():
        """The dates as ISO text, whether the approval date is estimated (0 or 1, NULL
        without one) and the days in review, written by the query: the rows need no
        conversion (a date or boolean column would have Django convert every value)."""
        return {
            "estimated": DatabaseInteger(approval_estimated()),
            "submitted_day": IsoDate("submitted_on"),
            "approved_day": IsoDate("approved_on"),
            "batch_announced_day": IsoDate("batch__announced_on"),
            "review_days": days_in_review_sql(timezone.localdate()),
        }

    @cached_property
    def shared(self):
        """What every row needs from the context, looked up once per listing."""
        return self.context["links"], self.context["labels"]

    def to_representation(self, row):
        links, label = self.shared
        status, approved_on = row.status, row.approved_day
        batch_slug, upstream_slug = row.batch__slug, row.upstream__slug
        return {
            "slug": row.slug,
            "url": links.model(row.slug),
            "html_url": links.model_page(row.slug),
            "name_zh": row.name_zh,
            "name_en": row.name_en,
            "filing_type": row.filing_type,
            "filing_type_label": label["filing_type"][row.filing_type],
            "sequence": row.sequence,
            "seq_no": row.seq_no,
            "scope": row.scope,
            "sector": row.sector,
            "status": status,
            "status_label": label["status"][status],
            "filing_number": row.filing_number,
            "submitted_on": row.submitted_day,
            "approved_on": approved_on,
            "approved_on_estimated": None if row.estimated is None else row.estimated == 1,
            "days_in_review": row.review_days,
            "on_device_scenario": row.on_device_scenario,
            "applicant": {
                "slug": row.applicant__slug,
                "name_zh": row.applicant__name_zh,
                "name_en": row.applicant__name_en,
                "url": links.applicant(row.applicant__slug),
            },
            "jurisdiction": jurisdiction(
                row.applicant__jurisdiction__code,
                row.applicant__jurisdiction__name_zh,
                row.applicant__jurisdiction__name_en,
            ),
            "batch": None
            if batch_slug is None
            else {
                "slug": batch_slug,
                "title_zh": row.batch__title_zh,
                "title_en": row.batch__title_en,
                "announced_on": row.batch_announced_day,
                "url": links.batch(batch_slug),
            },
            "upstream": None
            if upstream_slug is None
            else model_ref(
                links,
                upstream_slug,
                row.upstream__name_zh,
                row.upstream__name_en,
                row.upstream__filing_number,
            ),
        }


REVERSES_HELP = (
    "A step: the id of the step it undoes, entered in error (it goes back to that step's "
    "from_status, and its note says why); null otherwise."
)


class StepSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The step's id, as the changes listing gives it.")
    from_status = serializers.CharField(help_text="Empty for the step that entered the record.")
    to_status = serializers.ChoiceField(Status.choices)
    to_status_label = serializers.CharField()
    happened_on = serializers.DateField()
    recorded_at = serializers.DateTimeField()
    note = serializers.CharField(help_text="The public note on the step.")
    reverses = serializers.IntegerField(allow_null=True, help_text=REVERSES_HELP)


def step(change):
    return {
        "id": change.pk,
        "from_status": change.from_status,
        "to_status": change.to_status,
        "to_status_label": choice_label(Status, change.to_status),
        "happened_on": day(change.happened_on),
        "recorded_at": moment(change.recorded_at),
        "note": change.note,
        "reverses": change.reverses_id,
    }


class SourceSerializer(serializers.Serializer):
    title = serializers.CharField()
    publisher = serializers.CharField()
    url = serializers.CharField(help_text="The report's address (may be empty).")
    published_on = serializers.DateField(allow_null=True)


class AIModelDetailSerializer(AIModelSerializer):
    """A model with its description, other names, history, registrations and sources."""

    ROW_FIELDS = (*AIModelSerializer.ROW_FIELDS, "pk", "description", "aliases")

    description = serializers.CharField()
    aliases = serializers.ListField(
        child=serializers.CharField(), help_text="Other names it was reported under."
    )
    history = StepSerializer(many=True, help_text="Every status step, oldest first.")
    registrations = ModelRefSerializer(many=True, help_text="Apps registered on this model.")
    sources = SourceSerializer(many=True, help_text="Reports other than the lists naming it.")

    def to_representation(self, row):
        links = _links(self)
        history = StatusChange.objects.filter(model_id=row.pk).only(
            "from_status", "to_status", "happened_on", "recorded_at", "note", "reverses"
        )
        registrations = (
            AIModel.objects.filter(upstream_id=row.pk)
            .order_by(*published_order())
            .values_list("slug", "name_zh", "name_en", "filing_number")
        )
        sources = Source.objects.filter(ai_models=row.pk).values(
            "title", "publisher", "url", "published_on"
        )
        return {
            **super().to_representation(row),
            "description": row.description,
            "aliases": row.aliases.splitlines(),
            "history": [step(change) for change in history],
            "registrations": [model_ref(links, *values) for values in registrations],
            "sources": list(sources),
        }


class ApplicantSerializer(RowSerializer):
    ROW_FIELDS = (
        "slug",
        "name_zh",
        "name_en",
        "kind",
        "website",
        "jurisdiction__code",
        "jurisdiction__name_zh",
        "jurisdiction__name_en",
        "parent__slug",
    )

    slug = serializers.SlugField()
    url = serializers.URLField(help_text="This applicant in the API.")
    html_url = serializers.URLField(help_text="This applicant's page on the site.")
    name_zh = serializers.CharField()
    name_en = serializers.CharField()
    kind = serializers.ChoiceField(ApplicantKind.choices)
    website = serializers.CharField()
    jurisdiction = JurisdictionSerializer(allow_null=True)
    parent = serializers.URLField(allow_null=True, help_text="The parent group in the API.")
    models = serializers.URLField(help_text="Its models in the API.")

    def to_representation(self, row):
        links = _links(self)
        slug, parent = row.slug, row.parent__slug
        return {
            "slug": slug,
            "url": links.applicant(slug),
            "html_url": links.applicant_page(slug),
            "name_zh": row.name_zh,
            "name_en": row.name_en,
            "kind": row.kind,
            "website": row.website,
            "jurisdiction": jurisdiction(
                row.jurisdiction__code, row.jurisdiction__name_zh, row.jurisdiction__name_en
            ),
            "parent": None if parent is None else links.applicant(parent),
            "models": f"{self.context['models_url']}?applicant={slug}",
        }


class ApplicantDetailSerializer(ApplicantSerializer):
    ROW_FIELDS = (*ApplicantSerializer.ROW_FIELDS, "pk")

    model_counts = serializers.DictField(
        child=serializers.IntegerField(), help_text="Its models by status, every status named."
    )

    def to_representation(self, row):
        counts = AIModel.objects.filter(applicant_id=row.pk).status_counts("applicant")
        return {
            **super().to_representation(row),
            "model_counts": {status: counts.get((row.pk, status), 0) for status in Status.values},
        }


class BatchSerializer(RowSerializer):
    ROW_FIELDS = (
        "slug",
        "title_zh",
        "title_en",
        "announced_on",
        "announced_precision",
        "covers_until",
        "authority",
        "source_url",
        "reported_new",
        "reported_total",
        "reported_registrations_new",
        "reported_registrations_total",
    )

    slug = serializers.SlugField()
    url = serializers.URLField(help_text="This batch in the API.")
    html_url = serializers.URLField(help_text="This batch's page on the site.")
    title_zh = serializers.CharField()
    title_en = serializers.CharField()
    announced_on = serializers.DateField(
        help_text="When only the month is known (announced_precision month), its first day."
    )
    announced_precision = serializers.ChoiceField(DatePrecision.choices)
    covers_until = serializers.DateField(allow_null=True)
    authority = serializers.CharField()
    source_url = serializers.CharField()
    reported_new = serializers.IntegerField(allow_null=True)
    reported_total = serializers.IntegerField(allow_null=True)
    reported_registrations_new = serializers.IntegerField(allow_null=True)
    reported_registrations_total = serializers.IntegerField(allow_null=True)
    models = serializers.URLField(help_text="Its models in the API.")

    def to_representation(self, row):
        links = _links(self)
        slug = row.slug
        return {
            **{name: getattr(row, name) for name in BatchSerializer.ROW_FIELDS},
            "url": links.batch(slug),
            "html_url": links.batch_page(slug),
            "models": f"{self.context['models_url']}?batch={slug}",
        }


class BatchDetailSerializer(BatchSerializer):
    ROW_FIELDS = (*BatchSerializer.ROW_FIELDS, "description")

    description = serializers.CharField()

    def to_representation(self, row):
        return {**super().to_representation(row), "description": row.description}


class ChangeSerializer(serializers.Serializer):
    """One change to the register: a status step of a model, or a correction of one of its
    public fields."""

    # Each kind's rows, and the field holding its moment (tracker.api.pagination).
    STEP_FIELDS = (
        "from_status",
        "to_status",
        "happened_on",
        "note",
        "reverses",
        "model__slug",
        "model__name_zh",
        "model__name_en",
        "model__filing_number",
    )
    CORRECTION_FIELDS = ("record_type", "record_id", "field", "old_value", "new_value", "reason")

    id = serializers.IntegerField(
        help_text="The change's number within its kind: one that polls with an overlapping "
        "since skips the (kind, id) pairs it has seen."
    )
    kind = serializers.ChoiceField(
        CHANGE_KINDS, help_text="status: a status step; correction: a corrected field."
    )
    model = ModelRefSerializer()
    html_url = serializers.URLField(help_text="The model's page on the site.")
    recorded_at = serializers.DateTimeField(help_text="When the register recorded it.")
    happened_on = serializers.DateField(
        help_text="A step: the day it happened. A correction: the day it was made."
    )
    note = serializers.CharField(help_text="The step's public note, or the correction's reason.")
    from_status = serializers.CharField(
        allow_null=True, help_text="A step: the status before it; empty for the entry."
    )
    to_status = serializers.ChoiceField(Status.choices, allow_null=True)
    to_status_label = serializers.CharField(allow_null=True)
    field = serializers.CharField(allow_null=True, help_text="A correction: the field's name.")
    field_label = serializers.CharField(allow_null=True)
    old_value = serializers.CharField(
        allow_null=True, help_text="A correction: the value before, as the site shows it."
    )
    new_value = serializers.CharField(allow_null=True)
    reverses = serializers.IntegerField(allow_null=True, help_text=REVERSES_HELP)

    @cached_property
    def corrections(self):
        """The page's corrections as the site shows them, and their models: two queries."""
        rows = [row for row in self.parent.instance if row["kind"] == "correction"]
        shown = audit.shown(
            Correction(
                pk=row["pk"],
                record_type=row["record_type"],
                field=row["field"],
                old_value=row["old_value"],
                new_value=row["new_value"],
                changed_at=row[POSITION],
            )
            for row in rows
        )
        models = AIModel.objects.in_bulk({row["record_id"] for row in rows}, field_name="pk")
        return {row["pk"]: item for row, item in zip(rows, shown, strict=True)}, models

    def to_representation(self, row):
        links = _links(self)
        if row["kind"] == "correction":
            return self.correction(row, links)
        slug = row["model__slug"]
        return {
            "id": row["pk"],
            "kind": "status",
            "model": model_ref(
                links,
                slug,
                row["model__name_zh"],
                row["model__name_en"],
                row["model__filing_number"],
            ),
            "html_url": links.model_page(slug),
            "recorded_at": moment(row[POSITION]),
            "happened_on": day(row["happened_on"]),
            "note": row["note"],
            "from_status": row["from_status"],
            "to_status": row["to_status"],
            "to_status_label": self.context["labels"]["status"][row["to_status"]],
            "field": None,
            "field_label": None,
            "old_value": None,
            "new_value": None,
            "reverses": row["reverses"],
        }

    def correction(self, row, links):
        shown, models = self.corrections
        item, ai_model = shown[row["pk"]], models[row["record_id"]]
        return {
            "id": row["pk"],
            "kind": "correction",
            "model": model_ref(
                links, ai_model.slug, ai_model.name_zh, ai_model.name_en, ai_model.filing_number
            ),
            "html_url": links.model_page(ai_model.slug),
            "recorded_at": moment(row[POSITION]),
            "happened_on": day(timezone.localdate(row[POSITION])),
            "note": row["reason"],
            "from_status": None,
            "to_status": None,
            "to_status_label": None,
            "field": item.name,
            "field_label": item.field,
            "old_value": item.old,
            "new_value": item.new,
            "reverses": None,
        }
