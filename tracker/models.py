import datetime
import itertools

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tracker.bulk import insert_many
from tracker.text import (
    Slugs,
    clean_name,
    clean_number,
    match_key,
    pinyin_key,
    slug_base,
    unique_slug,
)

# Every slug may be left empty: save() makes one from the names.
SLUG_HELP = _("Leave empty to make one from the name.")
SLUG_LENGTH = 100  # a model's; applicants' and batches' are 80


def in_language(zh, en):
    """The name in the active language, falling back to the other one."""
    if (get_language() or "").startswith("zh"):
        return zh or en
    return en or zh


def choice_label(choices, value):
    """``value``'s label among ``choices`` (a TextChoices class); the value itself if unknown.

    Listings show labels on every row: Django's get_FOO_display hashes every lazy label of
    the field on each call, this looks one up.
    """
    try:
        return choices(value).label
    except ValueError:
        return value


def days_in_review(status, submitted_on, approved_on, today=None):
    """Approved − submitted for a decided submission, today − submitted for a pending one.

    None when the submission date is unknown, as for most published approvals.
    """
    if submitted_on is None:
        return None
    if status in PENDING_STATUSES:
        end = today or timezone.localdate()
    elif approved_on is not None:
        end = approved_on
    else:
        return None
    return (end - submitted_on).days


def review_end(today=None):
    """The day ``days_in_review`` counts to, in SQL: today while pending, the approval
    once decided (NULL without one)."""
    return models.Case(
        models.When(status__in=PENDING_STATUSES, then=models.Value(today or timezone.localdate())),
        default=models.F("approved_on"),
        output_field=models.DateField(),
    )


def approval_estimated():
    """Whether the approval date is estimated, in SQL: said only of a known date, NULL
    without one."""
    return models.Case(
        models.When(approved_on__isnull=False, then="approved_on_estimated"),
        output_field=models.BooleanField(),
    )


def days_in_review_expression(today=None):
    """``days_in_review`` in SQL, so a listing can sort on it; NULL when unknown."""
    return models.ExpressionWrapper(
        review_end(today) - models.F("submitted_on"), output_field=models.DurationField()
    )


def sorted_by(expression, descending=False):
    """The order of every listing: by ``expression`` with unknown values last in either
    direction, then by id so that each page of a listing keeps its rows."""
    if descending:
        return [expression.desc(nulls_last=True), "pk"]
    return [expression.asc(nulls_last=True), "pk"]


def published_order():
    """The published order: newest approval first, the undated last."""
    return sorted_by(models.F("approved_on"), descending=True)


# Joins the names in ``AIModel.search_text``. A control character: normalise_name strips
# those from names and from search terms, so no term can match across two names.
SEARCH_SEPARATOR = "\x1f"


def search_text(model_zh, model_en, applicant_zh, applicant_en, aliases="", number=""):
    """What a search on /models/ looks into, besides the filing number: the names of the
    model and its applicant, the other names the model was reported under, the pinyin of
    the Chinese names as one word each (``pangu`` finds 华为云盘古NLP大模型), and a number
    published with a space inside (``…PingTa i-2026…``) without it, so that the number
    typed whole finds it."""
    return SEARCH_SEPARATOR.join(
        (
            model_zh,
            model_en,
            *aliases.splitlines(),
            pinyin_key(model_zh),
            applicant_zh,
            applicant_en,
            pinyin_key(applicant_zh),
            number.replace(" ", "") if " " in number else "",
        )
    )


def name_expression(prefix="", chinese_first=False):
    """A name in one language falling back to the other, in SQL, for sorting.

    The same expressions are indexed, so a listing sorted by name reads an index in order.
    """
    zh, en = non_empty(f"{prefix}name_zh"), non_empty(f"{prefix}name_en")
    return Coalesce(zh, en) if chinese_first else Coalesce(en, zh)


def non_empty(field):
    """``field``, a text column, with an empty value read as unknown (NULL): a sort puts it
    last, as it does every unknown value."""
    # The '' is written into the SQL, not passed as a parameter: SQLite uses an expression
    # index only for a query expression identical to the indexed one.
    return models.Func(
        models.F(field), template="NULLIF(%(expressions)s, '')", output_field=models.CharField()
    )


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    PROVINCIAL_REVIEW = "provincial_review", _("Provincial review")
    SUPPLEMENT_REQUESTED = "supplement_requested", _("Supplement requested")
    NATIONAL_REVIEW = "national_review", _("National review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    SUSPENDED = "suspended", _("Suspended")
    CANCELLED = "cancelled", _("Cancelled")
    REVOKED = "revoked", _("Revoked")


PENDING_STATUSES = (
    Status.SUBMITTED,
    Status.PROVINCIAL_REVIEW,
    Status.SUPPLEMENT_REQUESTED,
    Status.NATIONAL_REVIEW,
)
# Statuses that can only be reached through an approval, so an approval date must exist.
APPROVED_STATUSES = (Status.APPROVED, Status.SUSPENDED, Status.CANCELLED, Status.REVOKED)


class FilingType(models.TextChoices):
    FILING = "filing", _("Filing")
    REGISTRATION = "registration", _("Registration")


class Scope(models.TextChoices):
    GENERAL = "general", _("General")
    INDUSTRY = "industry", _("Industry-specific")


class DatePrecision(models.TextChoices):
    DAY = "day", _("Day")
    MONTH = "month", _("Month only")


class Sequence(models.TextChoices):
    """The published lists' three running 序号: each table counts its own rows."""

    FILING = "filing", _("National filings")
    REGISTRATION = "registration", _("Registrations")
    ON_DEVICE = "on_device", _("On-device filings")


def sequence_of(filing_type, on_device_scenario):
    """Which published sequence a row's 序号 counts in."""
    if filing_type == FilingType.REGISTRATION:
        return Sequence.REGISTRATION
    return Sequence.ON_DEVICE if on_device_scenario else Sequence.FILING


# The sequence a row must be in, for its type and on-device scenario: a constraint.
SEQUENCE_FOLLOWS_TYPE = (
    Q(sequence=Sequence.REGISTRATION, filing_type=FilingType.REGISTRATION)
    | Q(sequence=Sequence.FILING, filing_type=FilingType.FILING, on_device_scenario="")
    | (Q(sequence=Sequence.ON_DEVICE, filing_type=FilingType.FILING) & ~Q(on_device_scenario=""))
)


class ApplicantKind(models.TextChoices):
    PRIVATE = "private", _("Private company")
    STATE_OWNED = "state_owned", _("State-owned")
    ACADEMIC = "academic", _("University or institute")
    OTHER = "other", _("Other")


class JurisdictionQuerySet(models.QuerySet):
    def get_by_natural_key(self, code):
        return self.get(code=code)


class Jurisdiction(models.Model):
    code = models.CharField(_("code"), max_length=8, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=40, unique=True)
    name_en = models.CharField(_("English name"), max_length=80, unique=True)
    filing_token = models.CharField(
        _("filing-number token"),
        max_length=40,
        help_text=_("How filing numbers spell the region, e.g. Beijing or ZhongYangQiYe."),
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    objects = JurisdictionQuerySet.as_manager()

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("jurisdiction")
        verbose_name_plural = _("jurisdictions")

    def __str__(self):
        return in_language(self.name_zh, self.name_en)

    @property
    def name(self):
        return in_language(self.name_zh, self.name_en)

    def natural_key(self):
        return (self.code,)


class JurisdictionResolver:
    """Finds a jurisdiction by Chinese name, code or filing-number token, in any case."""

    def __init__(self):
        self.all = list(Jurisdiction.objects.all())
        self.by_key = {}
        for jurisdiction in self.all:
            for key in (
                jurisdiction.name_zh,
                jurisdiction.code,
                jurisdiction.filing_token,
                jurisdiction.name_en,
            ):
                self.by_key[key.casefold()] = jurisdiction
        # Longest first, so that a cell like 内蒙古自治区 finds 内蒙古 and nothing shorter.
        self.by_prefix = sorted(self.all, key=lambda j: -len(j.name_zh))
        # Every spelling of a region that filing numbers use, case-folded.
        self.region_tokens = {
            spelling.casefold() for j in self.all for spelling in (j.filing_token, j.name_en)
        }

    def resolve(self, cell, filing_number=""):
        """The jurisdiction a list's 属地 cell names or, when the cell is empty, the one the
        filing number's first token names (a hint only); None when neither matches."""
        cell = clean_name(cell).replace(" ", "")
        filing_number = clean_number(filing_number)
        if cell:
            found = self.by_key.get(cell.casefold())
            if found is None:
                found = next((j for j in self.by_prefix if cell.startswith(j.name_zh)), None)
            return found
        if filing_number:
            return self.by_key.get(filing_number.split("-", 1)[0].casefold())
        return None


class ApplicantQuerySet(models.QuerySet):
    def create_many(self, applicants):
        """Insert unsaved ``applicants`` in a few statements, each as ``save()`` would
        store it: names cleaned, match key and a unique slug set. Sets their ids."""
        applicants = list(applicants)
        if not applicants:
            return applicants
        for applicant in applicants:
            applicant.set_derived_fields()
        bases = [slug_base(a.name_en, a.name_zh) for a in applicants]
        slugs = Slugs(self.model.objects.all(), bases, 80)
        for applicant, base in zip(applicants, bases, strict=True):
            applicant.slug = applicant.slug or slugs.make(base, "applicant")
        ids = insert_many(self.model, applicants)
        for applicant in applicants:
            applicant.pk = ids[applicant.slug]
            applicant._state.adding = False
        return applicants

    def search(self, query):
        """The applicants with ``query`` in either name (the /applicants/ search)."""
        if not query:
            return self
        return self.filter(Q(name_zh__icontains=query) | Q(name_en__icontains=query))

    def for_listing(self):
        """Each applicant with its model counts by status, in one query (the CSV export).

        The applicants page counts only the applicants it shows: see
        ``AIModelQuerySet.status_counts``.
        """
        counts = {
            f"n_{status}": models.Count("models", filter=Q(models__status=status))
            for status in Status.values
        }
        return (
            self.select_related("jurisdiction")
            .annotate(n_models=models.Count("models"), **counts)
            .order_by("name_en", "name_zh", "pk")
        )


class Applicant(models.Model):
    name_zh = models.CharField(_("Chinese name"), max_length=200, blank=True)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    slug = models.SlugField(_("slug"), max_length=80, unique=True, blank=True, help_text=SLUG_HELP)
    jurisdiction = models.ForeignKey(
        Jurisdiction,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applicants",
        verbose_name=_("jurisdiction"),
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=ApplicantKind.choices, default=ApplicantKind.PRIVATE
    )
    website = models.URLField(_("website"), blank=True)
    # The Chinese name (the English one when there is none) as ``match_key`` gives it:
    # an import matches the applicant whatever the spaces or bracket widths of its list.
    name_key = models.CharField(max_length=200, blank=True, default="", editable=False)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subsidiaries",
        verbose_name=_("parent group"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ApplicantQuerySet.as_manager()

    class Meta:
        ordering = ["name_en", "name_zh"]
        verbose_name = _("applicant")
        verbose_name_plural = _("applicants")
        constraints = [
            # An applicant is known by at least one of its names.
            models.CheckConstraint(
                condition=~Q(name_zh="") | ~Q(name_en=""), name="applicant_has_a_name"
            ),
            # Importers match applicants by name: one name, one applicant.
            models.UniqueConstraint(
                fields=["name_zh"], condition=~Q(name_zh=""), name="applicant_unique_name_zh"
            ),
            models.UniqueConstraint(
                fields=["name_en"], condition=~Q(name_en=""), name="applicant_unique_name_en"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ApplicantKind.values), name="applicant_kind_known"
            ),
            # A group is never its own parent (clean() refuses longer cycles too).
            models.CheckConstraint(
                condition=~Q(parent=models.F("pk")),
                name="applicant_not_its_own_parent",
                violation_error_message=_("An applicant cannot be its own parent group."),
            ),
        ]
        indexes = [
            models.Index(fields=["name_key"], name="applicant_name_key_idx"),
            # /applicants/ sorts by the name in the reader's language.
            models.Index(name_expression(), "id", name="applicant_name_en_first_idx"),
            models.Index(
                name_expression(chinese_first=True), "id", name="applicant_name_zh_first_idx"
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.set_derived_fields()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "name_key"}
        if not self.slug:
            self.slug = unique_slug(
                Applicant.objects.exclude(pk=self.pk),
                slug_base(self.name_en, self.name_zh),
                "applicant",
            )
        renamed = (
            not self._state.adding
            and Applicant.objects.filter(pk=self.pk)
            .exclude(name_zh=self.name_zh, name_en=self.name_en)
            .exists()
        )
        super().save(*args, **kwargs)
        if renamed:
            # The applicant's names are part of each of its models' search text; an edit
            # that keeps them rewrites none of its (possibly thousands of) models.
            AIModel.objects.rewrite_search_text(self)

    def get_absolute_url(self):
        return reverse("tracker:applicant_detail", args=[self.slug])

    def clean(self):
        super().clean()
        if self.parent_id is not None and self.pk is not None and self.parent_is_descendant():
            raise ValidationError(
                {
                    "parent": _("%(parent)s belongs to this group already: that would be a cycle.")
                    % {"parent": self.parent}
                }
            )

    def parent_is_descendant(self):
        """Whether this applicant's parent, or any group above it, is the applicant itself."""
        seen, current = set(), self.parent_id
        while current is not None and current not in seen:
            if current == self.pk:
                return True
            seen.add(current)
            current = (
                Applicant.objects.filter(pk=current).values_list("parent_id", flat=True).first()
            )
        return False

    def set_derived_fields(self):
        """Clean the names and set the match key: for save() and bulk inserts alike."""
        self.name_zh = clean_name(self.name_zh)
        self.name_en = clean_name(self.name_en)
        self.name_key = match_key(self.name_zh or self.name_en)

    @property
    def name(self):
        return in_language(self.name_zh, self.name_en)

    @property
    def kind_label(self):
        return choice_label(ApplicantKind, self.kind)


class Batch(models.Model):
    slug = models.SlugField(_("slug"), max_length=80, unique=True, blank=True, help_text=SLUG_HELP)
    title_en = models.CharField(_("English title"), max_length=200, blank=True)
    title_zh = models.CharField(_("Chinese title"), max_length=200, blank=True)
    announced_on = models.DateField(
        _("announced on"),
        help_text=_("When only the month is known, its first day, with the precision set."),
    )
    announced_precision = models.CharField(
        _("announcement date known to the"),
        max_length=8,
        choices=DatePrecision.choices,
        default=DatePrecision.DAY,
    )
    covers_until = models.DateField(
        _("covers filings until"),
        null=True,
        blank=True,
        help_text=_("The 'as of' date of the announced totals."),
    )
    authority = models.CharField(
        _("authority"), max_length=120, default="Cyberspace Administration of China"
    )
    source_url = models.URLField(_("source"), max_length=500, blank=True)
    reported_new = models.PositiveIntegerField(_("announced new filings"), null=True, blank=True)
    reported_total = models.PositiveIntegerField(
        _("announced cumulative filings"), null=True, blank=True
    )
    reported_registrations_new = models.PositiveIntegerField(
        _("announced new registrations"), null=True, blank=True
    )
    reported_registrations_total = models.PositiveIntegerField(
        _("announced cumulative registrations"), null=True, blank=True
    )
    description = models.TextField(_("public description"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-announced_on", "-pk"]
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        constraints = [
            # A notice is known by at least one of its titles.
            models.CheckConstraint(
                condition=~Q(title_zh="") | ~Q(title_en=""), name="batch_has_a_title"
            ),
            models.CheckConstraint(
                condition=Q(announced_precision__in=DatePrecision.values),
                name="batch_announced_precision_known",
            ),
        ]
        indexes = [
            # The overview and /batches/ list the newest notices first.
            models.Index(fields=["-announced_on"], name="batch_announced_idx"),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(
                Batch.objects.exclude(pk=self.pk),
                slug_base(self.title_en, self.title_zh),
                f"batch-{self.announced_on:%Y-%m}" if self.announced_on else "batch",
            )
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("tracker:batch_detail", args=[self.slug])

    @property
    def title(self):
        return in_language(self.title_zh, self.title_en)

    @property
    def announced_label(self):
        """The announcement date to the precision it is known: 2024-08 or 2024-04-02."""
        if self.announced_precision == DatePrecision.MONTH:
            return f"{self.announced_on:%Y-%m}"
        return self.announced_on.isoformat()


# Fields of a model that no listing row shows.
LISTING_DEFERRED = (
    "description",
    "aliases",
    "search_text",
    "name_key",
    "number_key",
    "created_at",
    "updated_at",
)


class AIModelQuerySet(models.QuerySet):
    def public(self):
        """What a public page may show: every model, with what its rows display, and
        without the staff's internal notes."""
        return self.select_related("applicant__jurisdiction", "batch").defer("internal_notes")

    def for_listing(self):
        """``public()`` without what no listing row shows: less to read and convert."""
        return self.public().defer(
            *LISTING_DEFERRED,
            *(f"applicant__{name}" for name in ("created_at", "updated_at")),
            *(f"batch__{name}" for name in ("description", "created_at", "updated_at")),
        )

    def backlog(self):
        """Pending submissions, longest waiting first."""
        return (
            self.for_listing()
            .filter(status__in=PENDING_STATUSES)
            .order_by(models.F("submitted_on").asc(nulls_last=True), "pk")
        )

    def approved(self):
        return self.filter(status=Status.APPROVED)

    def published(self):
        """The rows of the published lists: the models entered for a batch."""
        return self.filter(batch__isnull=False)

    def rewrite_search_text(self, applicant):
        """Rewrite the search text of ``applicant``'s models after it was renamed."""
        # The ids first: no cursor stays open on the table while it is written.
        ids = list(self.filter(applicant=applicant).order_by("pk").values_list("pk", flat=True))
        fields = ("pk", "name_zh", "name_en", "aliases", "filing_number")
        for chunk in itertools.batched(ids, 1000):
            rows = list(self.model.objects.filter(pk__in=chunk).only(*fields))
            for ai_model in rows:
                ai_model.search_text = ai_model.make_search_text(applicant)
            self.model.objects.bulk_update(rows, ["search_text"])

    def in_order(self, ids):
        """The rows of ``ids``, in that order: a page whose ids a narrower query chose."""
        by_id = self.in_bulk(ids)
        return [by_id[pk] for pk in ids if pk in by_id]

    def status_counts(self, field):
        """{(value of ``field``, status): number of models}, for the rows in this queryset."""
        rows = self.order_by().values_list(field, "status").annotate(n=models.Count("pk"))
        return {(value, status): n for value, status, n in rows}


class AIModel(models.Model):
    name_zh = models.CharField(_("Chinese name"), max_length=200, blank=True)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    slug = models.SlugField(
        _("slug"), max_length=SLUG_LENGTH, unique=True, blank=True, help_text=SLUG_HELP
    )
    # Not indexed alone: the indexes starting with the applicant serve its lookups.
    applicant = models.ForeignKey(
        Applicant,
        on_delete=models.PROTECT,
        related_name="models",
        verbose_name=_("applicant"),
        db_index=False,
    )
    filing_type = models.CharField(
        _("filing type"), max_length=16, choices=FilingType.choices, default=FilingType.FILING
    )
    scope = models.CharField(
        _("scope"), max_length=16, choices=Scope.choices, default=Scope.GENERAL
    )
    sector = models.CharField(_("sector"), max_length=80, blank=True)
    upstream = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registrations",
        # Offered and accepted only among filings, the admin's autocomplete included.
        limit_choices_to={"filing_type": FilingType.FILING},
        verbose_name=_("upstream model"),
        help_text=_("For a registration: the filed model it calls."),
    )
    # Written only by tracker.workflow; the admin shows it read-only.
    status = models.CharField(
        _("status"), max_length=24, choices=Status.choices, default=Status.SUBMITTED
    )
    filing_number = models.CharField(_("filing number"), max_length=80, blank=True)
    submitted_on = models.DateField(_("submitted on"), null=True, blank=True)
    approved_on = models.DateField(_("approved on"), null=True, blank=True)
    # Not indexed alone: the indexes starting with the batch serve its lookups.
    batch = models.ForeignKey(
        Batch,
        db_index=False,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="models",
        verbose_name=_("batch"),
    )
    seq_no = models.PositiveIntegerField(
        _("sequence number"),
        null=True,
        blank=True,
        help_text=_(
            "序号: the row's number in the published lists. Filings, registrations and "
            "on-device filings each have their own running number."
        ),
    )
    on_device_scenario = models.CharField(
        _("on-device scenario"),
        max_length=120,
        blank=True,
        help_text=_("适用场景: the device an on-device service runs on, as published."),
    )
    # Which published 序号 the row counts in: follows the type and the on-device scenario
    # (set by set_derived_fields, checked by the database).
    sequence = models.CharField(
        _("published sequence"),
        max_length=16,
        choices=Sequence.choices,
        default=Sequence.FILING,
        editable=False,
    )
    approved_on_estimated = models.BooleanField(
        _("approval date estimated"),
        default=False,
        help_text=_("The approval date is the day of the notice that listed it, not a known one."),
    )
    aliases = models.TextField(
        _("also reported as"),
        blank=True,
        help_text=_("Other names the model was reported under, one per line; search finds them."),
    )
    description = models.TextField(_("public description"), blank=True)
    internal_notes = models.TextField(
        _("internal notes"), blank=True, help_text=_("Staff only: never shown in public.")
    )
    # The model's and its applicant's names (see search_text()), kept by AIModel.save and
    # Applicant.save, so a search reads one column of one table instead of a join.
    search_text = models.TextField(blank=True, default="", editable=False)
    # The name and the filing number as ``match_key`` gives them: an import matches the
    # model whatever the spaces or bracket widths of its list.
    name_key = models.CharField(max_length=200, blank=True, default="", editable=False)
    number_key = models.CharField(max_length=80, blank=True, default="", editable=False)
    # Bumped by every write, so a form or transition based on an old read can be refused.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AIModelQuerySet.as_manager()

    class Meta:
        ordering = published_order()
        verbose_name = _("AI model")
        verbose_name_plural = _("AI models")
        permissions = [("change_status", _("Can move submissions through review"))]
        constraints = [
            # The workflow only knows these statuses; anything else is corruption.
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="aimodel_status_known"
            ),
            # Approved (and later suspended, cancelled or revoked) means a known approval date.
            models.CheckConstraint(
                condition=~Q(status__in=APPROVED_STATUSES) | Q(approved_on__isnull=False),
                name="aimodel_approved_has_date",
            ),
            models.CheckConstraint(
                condition=Q(filing_type__in=FilingType.values), name="aimodel_filing_type_known"
            ),
            models.CheckConstraint(condition=Q(scope__in=Scope.values), name="aimodel_scope_known"),
            # A decision cannot precede the submission.
            models.CheckConstraint(
                condition=Q(submitted_on__isnull=True)
                | Q(approved_on__isnull=True)
                | Q(approved_on__gte=models.F("submitted_on")),
                name="aimodel_approved_after_submitted",
            ),
            # A filing number identifies one model; most pending models have none yet.
            models.UniqueConstraint(
                fields=["filing_number"],
                condition=~Q(filing_number=""),
                name="aimodel_unique_filing_number",
            ),
            # One applicant does not file two models under the same name (it may file a
            # model and register an app of the same name: 小米's 小爱同学AI助手).
            models.UniqueConstraint(
                fields=["applicant", "filing_type", "name_zh"],
                condition=~Q(name_zh=""),
                name="aimodel_unique_name_zh_per_applicant",
            ),
            models.UniqueConstraint(
                fields=["applicant", "filing_type", "name_en"],
                condition=~Q(name_en=""),
                name="aimodel_unique_name_en_per_applicant",
            ),
            # Each published sequence numbers a row once.
            models.UniqueConstraint(
                fields=["sequence", "seq_no"],
                condition=Q(seq_no__isnull=False),
                name="aimodel_unique_seq_no",
            ),
            models.CheckConstraint(condition=SEQUENCE_FOLLOWS_TYPE, name="aimodel_sequence_known"),
        ]
        # On PostgreSQL, migration 0002 rebuilds the four indexes holding approved_on DESC
        # as DESC NULLS LAST, the listings' order (SQLite has no NULLS LAST in an index and
        # needs none); a migration that recreates one of them must do the same.
        indexes = [
            # /models/?status=… and the backlog (pending, oldest submission first).
            models.Index(fields=["status", "submitted_on"], name="aimodel_status_submitted_idx"),
            # Default listing order and the feed: newest approvals first.
            models.Index(fields=["-approved_on", "id"], name="aimodel_approved_idx"),
            # A batch page lists its tables in turn, each by approval date, then as published.
            models.Index(
                fields=["batch", "sequence", "approved_on", "seq_no", "id"],
                name="aimodel_batch_round_idx",
            ),
            # Entered counts per batch and filing type (overview, /batches/), from the index alone.
            models.Index(fields=["batch", "filing_type"], name="aimodel_batch_type_idx"),
            # Counts by status for the applicants shown on /applicants/ and an applicant's
            # page; /models/?jurisdiction=…&status=… sorts its matches from this index alone.
            models.Index(
                "applicant",
                "status",
                models.F("approved_on").desc(),
                "id",
                name="aimodel_applicant_status_idx",
            ),
            # An applicant's page lists its models newest approval first.
            models.Index(
                "applicant", models.F("approved_on").desc(), "id", name="aimodel_applicant_idx"
            ),
            # An import matches its rows by filing number or by name, whatever the spaces.
            models.Index(fields=["number_key"], name="aimodel_number_key_idx"),
            models.Index(fields=["applicant", "name_key"], name="aimodel_name_key_idx"),
            # /models/?sector=…, and the sector facet's counts (tracker.public.facets).
            models.Index(fields=["sector"], name="aimodel_sector_idx"),
            # The backlog: pending models, oldest submission first.
            models.Index(
                fields=["submitted_on", "id"],
                condition=Q(status__in=PENDING_STATUSES),
                name="aimodel_backlog_idx",
            ),
            # The feed: approvals, newest first.
            models.Index(
                "status",
                models.F("approved_on").desc(),
                "id",
                name="aimodel_status_approved_idx",
            ),
            # /models/?sort=name in either language.
            models.Index(name_expression(), "id", name="aimodel_name_en_first_idx"),
            models.Index(
                name_expression(chinese_first=True), "id", name="aimodel_name_zh_first_idx"
            ),
        ]

    def __str__(self):
        return self.display_name

    def save(self, *args, **kwargs):
        applicant = self.applicant if self.applicant_id else Applicant()
        self.set_derived_fields(applicant)
        if not self.slug:
            self.slug = unique_slug(
                AIModel.objects.exclude(pk=self.pk), *self.slug_parts(), max_length=SLUG_LENGTH
            )
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {
                *kwargs["update_fields"],
                "search_text",
                "name_key",
                "number_key",
                "sequence",
            }
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("tracker:model_detail", args=[self.slug])

    def make_search_text(self, applicant, filing_number=None):
        """``search_text`` of this model of ``applicant``, with ``filing_number`` when it
        is about to replace the model's own."""
        return search_text(
            self.name_zh,
            self.name_en,
            applicant.name_zh,
            applicant.name_en,
            self.aliases,
            self.filing_number if filing_number is None else filing_number,
        )

    def set_derived_fields(self, applicant):
        """Clean the names and the number, and set the search text and the match keys from
        them and ``applicant``'s names: for save() and bulk inserts alike."""
        self.name_zh = clean_name(self.name_zh)
        self.name_en = clean_name(self.name_en)
        self.filing_number = clean_number(self.filing_number)
        self.on_device_scenario = clean_name(self.on_device_scenario)
        self.aliases = "\n".join(
            name for name in map(clean_name, self.aliases.splitlines()) if name
        )
        self.name_key = match_key(self.name_zh or self.name_en)
        self.number_key = match_key(self.filing_number)
        self.sequence = sequence_of(self.filing_type, self.on_device_scenario)
        self.search_text = self.make_search_text(applicant)

    def slug_parts(self):
        """The slug's readable base, and the fallback for a name that gives none."""
        applicant_slug = self.applicant.slug if self.applicant_id else "model"
        return slug_base(self.name_en, self.name_zh), f"{applicant_slug}-model"

    @classmethod
    def prepare_many(cls, ai_models):
        """Give unsaved ``ai_models`` what ``save()`` gives one: derived fields from their
        applicants' names, and unique slugs looked up in a few queries."""
        parts = [ai_model.slug_parts() for ai_model in ai_models]
        slugs = Slugs(cls.objects.all(), [base for base, _fallback in parts], SLUG_LENGTH)
        for ai_model, (base, fallback) in zip(ai_models, parts, strict=True):
            ai_model.set_derived_fields(ai_model.applicant)
            ai_model.slug = ai_model.slug or slugs.make(base, fallback)

    @property
    def name(self):
        return in_language(self.name_zh, self.name_en)

    @property
    def display_name(self):
        if self.name:
            return self.name
        return _("%(applicant)s model (name not reported)") % {"applicant": self.applicant}

    @property
    def is_pending(self):
        return self.status in PENDING_STATUSES

    @property
    def days_in_review(self):
        return days_in_review(self.status, self.submitted_on, self.approved_on)

    @property
    def status_label(self):
        return choice_label(Status, self.status)

    @property
    def filing_type_label(self):
        return choice_label(FilingType, self.filing_type)

    @property
    def sequence_label(self):
        return choice_label(Sequence, self.sequence)

    @property
    def alias_list(self):
        return self.aliases.splitlines()

    @property
    def scope_label(self):
        return choice_label(Scope, self.scope)


class Source(models.Model):
    """A report other than a published list that names models of the register, such as
    the news report of an approval round; cited on each model's page."""

    title = models.CharField(_("title"), max_length=300)
    publisher = models.CharField(_("publisher"), max_length=120, blank=True)
    url = models.URLField(_("address"), max_length=500, blank=True)
    published_on = models.DateField(_("published on"), null=True, blank=True)
    summary = models.TextField(_("what it reported"), blank=True)
    ai_models = models.ManyToManyField(
        AIModel, related_name="sources", blank=True, verbose_name=_("models it names")
    )

    class Meta:
        ordering = ["published_on", "pk"]
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        constraints = [
            models.UniqueConstraint(fields=["title", "url"], name="source_unique_title_url"),
        ]

    def __str__(self):
        return self.title


class StatusChange(models.Model):
    """One step of a submission's history. Append-only: written by tracker.workflow."""

    # Not indexed alone: statuschange_model_idx starts with the model.
    model = models.ForeignKey(
        AIModel,
        on_delete=models.PROTECT,
        related_name="history",
        verbose_name=_("model"),
        db_index=False,
    )
    from_status = models.CharField(_("from"), max_length=24, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=24, choices=Status.choices)
    happened_on = models.DateField(_("happened on"))
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    note = models.TextField(_("public note"), blank=True)
    # A step that undoes an earlier one entered in error: it restores the status before it.
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversal",
        verbose_name=_("reverses"),
    )

    class Meta:
        ordering = ["happened_on", "recorded_at", "pk"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        constraints = [
            models.CheckConstraint(
                condition=Q(to_status__in=Status.values), name="statuschange_to_known"
            ),
            # Empty from_status marks the first step: how the record entered the register.
            models.CheckConstraint(
                condition=Q(from_status="") | Q(from_status__in=Status.values),
                name="statuschange_from_known",
            ),
        ]
        indexes = [
            # A model's timeline, and the as-of report's "last step on or before a date".
            models.Index(
                fields=["model", "happened_on", "recorded_at"], name="statuschange_model_idx"
            ),
            # The change feeds: every step, newest recorded first.
            models.Index(models.F("recorded_at").desc(), "id", name="statuschange_recorded_idx"),
        ]

    def __str__(self):
        return f"{self.from_status_label or '—'} → {self.to_status_label}"

    @property
    def from_status_label(self):
        return choice_label(Status, self.from_status)

    @property
    def to_status_label(self):
        return choice_label(Status, self.to_status)


def latest_step(**conditions):
    """For a Subquery: the latest history step of the outer query's model (in the
    timeline's order), among its steps matching ``conditions``."""
    return StatusChange.objects.filter(model=models.OuterRef("pk"), **conditions).reverse()


class RecordType(models.TextChoices):
    MODEL = "model", _("model")
    APPLICANT = "applicant", _("applicant")
    BATCH = "batch", _("batch")


class ChangeKind(models.TextChoices):
    EDIT = "edit", _("Correction")
    STEP = "step", _("Status step")


class Correction(models.Model):
    """One change to one public field of a model, applicant or batch: the audit trail.

    Written by database triggers (migration 0005) on every UPDATE of those tables, whatever
    makes it (the admin, the importer, a queryset update, raw SQL), in the same transaction;
    who made it and why come from ``tracker.audit.recorded``. Append-only: the database
    refuses an UPDATE or DELETE of a row.
    """

    record_type = models.CharField(_("record type"), max_length=16, choices=RecordType.choices)
    record_id = models.BigIntegerField(_("record"))
    field = models.CharField(_("field"), max_length=64)
    # The values as text; NULL for none (an unset date or link), which "" is not.
    old_value = models.TextField(_("old value"), null=True, blank=True)  # noqa: DJ001
    new_value = models.TextField(_("new value"), null=True, blank=True)  # noqa: DJ001
    kind = models.CharField(
        _("kind"), max_length=8, choices=ChangeKind.choices, default=ChangeKind.EDIT
    )
    reason = models.TextField(_("reason"), blank=True, default="")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        ordering = ["changed_at", "pk"]
        verbose_name = _("correction")
        verbose_name_plural = _("record history")
        indexes = [
            models.Index(
                fields=["record_type", "record_id", "changed_at"], name="correction_record_idx"
            ),
            models.Index(models.F("changed_at").desc(), "id", name="correction_changed_idx"),
        ]

    def __str__(self):
        return f"{self.record_type} {self.record_id}: {self.field}"


class AuditContext(models.Model):
    """Who is writing and why, for the audit triggers: a row that lives only inside the
    transaction that writes (``tracker.audit.recorded`` adds it and removes it before the
    transaction ends), so no other transaction ever sees it."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, related_name="+"
    )
    reason = models.TextField(blank=True, default="")
    kind = models.CharField(max_length=8, choices=ChangeKind.choices, default=ChangeKind.EDIT)

    def __str__(self):
        return f"{self.kind}: {self.reason}"


class PendingImport(models.Model):
    """A published list uploaded in the admin and waiting for its uploader to confirm the
    import. Kept in the database, so any instance of the site can confirm it; a day old,
    it has expired."""

    MAX_AGE = datetime.timedelta(days=1)

    token = models.CharField(max_length=43, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    name = models.CharField(max_length=255)
    data = models.BinaryField()
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="+")
    filing_type = models.CharField(max_length=16, choices=FilingType.choices, blank=True)
    unswap = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("pending import")
        verbose_name_plural = _("pending imports")

    def __str__(self):
        return self.name

    @classmethod
    def expired(cls):
        return cls.objects.filter(created_at__lt=timezone.now() - cls.MAX_AGE)
