"""The benchmark behind ``manage.py benchmark``: its own database, synthetic data, measurements.

The data imitates the register at scale: most models approved, a backlog in the four
pending statuses, the rest rejected, withdrawn or later suspended, cancelled or revoked;
applicants skewed towards Beijing, Shanghai, Guangdong and Zhejiang, a few of them with
thousands of models; registrations calling approved filings; histories that follow the
workflow's transition table. Rows are written with ``bulk_create`` and explicit ids, so
a million models take minutes, not hours. The same seed gives the same data.
"""

import argparse
import bisect
import contextlib
import csv
import datetime
import itertools
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import dj_database_url
import psycopg
import psycopg.sql
from django.conf import settings
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Count, Max
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone
from django.utils.text import slugify

from tracker.analysis.reports import percentile
from tracker.bulk import insert_rows
from tracker.models import (
    PENDING_STATUSES,
    AIModel,
    Applicant,
    ApplicantKind,
    Batch,
    FilingType,
    Jurisdiction,
    Scope,
    Sequence,
    Status,
    StatusChange,
    search_text,
)
from tracker.text import Slugs, match_key, slug_base

S = Status
CHINA = ZoneInfo("Asia/Shanghai")
FIRST_DAY = datetime.date(2023, 8, 15)
LAST_DAY = datetime.date(2026, 11, 30)
MARKER_TABLE = "benchmark_dataset"
# Requests to each page before the timed ones, which then find every cache warm.
WARMUP_REQUESTS = 2
CHUNK = 5000

# Filing-number tokens of the four provinces that file most; the rest weigh 1.
JURISDICTION_WEIGHTS = {"BJ": 30, "SH": 20, "GD": 16, "ZJ": 10, "JS": 5, "SASAC": 3}
STATUS_WEIGHTS = {
    S.APPROVED: 70,
    S.SUBMITTED: 3,
    S.PROVINCIAL_REVIEW: 5,
    S.SUPPLEMENT_REQUESTED: 3,
    S.NATIONAL_REVIEW: 6,
    S.REJECTED: 5,
    S.WITHDRAWN: 4,
    S.SUSPENDED: 1.5,
    S.CANCELLED: 1.5,
    S.REVOKED: 1,
}
SECTORS = (
    "finance",
    "healthcare",
    "education",
    "e-commerce",
    "customer service",
    "legal",
    "government services",
    "manufacturing",
    "energy",
    "transport",
    "media",
    "gaming",
    "telecommunications",
    "agriculture",
    "real estate",
    "tourism",
    "recruitment",
    "security",
    "automotive",
    "consumer electronics",
)
# (hanzi, pinyin): brand names are two or three of these, so their romanisation is known.
SYLLABLE_TEXT = (
    "智:zhi 元:yuan 星:xing 河:he 云:yun 雀:que 天:tian 工:gong 盘:pan 古:gu 灵:ling 犀:xi "
    "通:tong 义:yi 文:wen 心:xin 混:hun 沌:dun 九:jiu 章:zhang 商:shang 量:liang 书:shu "
    "生:sheng 浦:pu 语:yu 言:yan 曜:yao 光:guang 明:ming 华:hua 夏:xia 青:qing 松:song "
    "白:bai 泽:ze 玄:xuan 武:wu 昆:kun 仑:lun 海:hai 鹰:ying 龙:long 腾:teng 飞:fei "
    "鲸:jing 鸿:hong 蒙:meng 伏:fu 羲:xi 神:shen 农:nong 太:tai 乙:yi 紫:zi 东:dong "
    "极:ji 风:feng 雷:lei 晨:chen 曦:xi 知:zhi 行:xing 百:bai 川:chuan 万:wan 象:xiang"
)
SYLLABLES = [tuple(pair.split(":")) for pair in SYLLABLE_TEXT.split()]
MODEL_NOUNS = (
    ("大模型", "Model", "da mo xing"),
    ("智能助手", "Assistant", "zhi neng zhu shou"),
    ("写作助手", "Writer", "xie zuo zhu shou"),
    ("客服大模型", "Service Model", "ke fu da mo xing"),
    ("医疗大模型", "Medical Model", "yi liao da mo xing"),
    ("金融大模型", "Finance Model", "jin rong da mo xing"),
    ("代码助手", "Coder", "dai ma zhu shou"),
    ("对话模型", "Chat", "dui hua mo xing"),
    ("多模态大模型", "Vision Model", "duo mo tai da mo xing"),
    ("教育大模型", "Tutor", "jiao yu da mo xing"),
    ("法律大模型", "Legal Model", "fa lv da mo xing"),
    ("搜索问答", "Search", "sou suo wen da"),
)
COMPANY_KINDS = (
    ("科技有限公司", "Technology Co., Ltd.", ApplicantKind.PRIVATE),
    ("智能科技有限公司", "Intelligent Technology Co., Ltd.", ApplicantKind.PRIVATE),
    ("信息技术有限公司", "Information Technology Co., Ltd.", ApplicantKind.PRIVATE),
    ("网络科技有限公司", "Network Technology Co., Ltd.", ApplicantKind.PRIVATE),
    ("数据科技股份有限公司", "Data Technology Co., Ltd.", ApplicantKind.OTHER),
    ("人工智能研究院", "Institute of Artificial Intelligence", ApplicantKind.ACADEMIC),
)

# Histories a model with a given final status may have had, in workflow order; the first
# step enters the register (from_status ""), the last ends in the model's status.
FILING_PATHS = {
    S.SUBMITTED: [(S.SUBMITTED,)],
    S.PROVINCIAL_REVIEW: [
        (S.SUBMITTED, S.PROVINCIAL_REVIEW),
        (S.SUBMITTED, S.PROVINCIAL_REVIEW, S.SUPPLEMENT_REQUESTED, S.PROVINCIAL_REVIEW),
    ],
    S.SUPPLEMENT_REQUESTED: [
        (S.PROVINCIAL_REVIEW, S.SUPPLEMENT_REQUESTED),
        (S.SUBMITTED, S.PROVINCIAL_REVIEW, S.SUPPLEMENT_REQUESTED),
    ],
    S.NATIONAL_REVIEW: [
        (S.PROVINCIAL_REVIEW, S.NATIONAL_REVIEW),
        (S.SUBMITTED, S.PROVINCIAL_REVIEW, S.NATIONAL_REVIEW),
        (S.SUBMITTED, S.PROVINCIAL_REVIEW, S.SUPPLEMENT_REQUESTED, S.NATIONAL_REVIEW),
    ],
    S.APPROVED: [
        (S.NATIONAL_REVIEW, S.APPROVED),
        (S.PROVINCIAL_REVIEW, S.NATIONAL_REVIEW, S.APPROVED),
        (S.SUBMITTED, S.PROVINCIAL_REVIEW, S.NATIONAL_REVIEW, S.APPROVED),
        (S.SUBMITTED, S.PROVINCIAL_REVIEW, S.SUPPLEMENT_REQUESTED, S.NATIONAL_REVIEW, S.APPROVED),
    ],
    S.REJECTED: [
        (S.SUBMITTED, S.PROVINCIAL_REVIEW, S.REJECTED),
        (S.PROVINCIAL_REVIEW, S.NATIONAL_REVIEW, S.REJECTED),
        (S.SUBMITTED, S.PROVINCIAL_REVIEW, S.SUPPLEMENT_REQUESTED, S.REJECTED),
    ],
    S.WITHDRAWN: [
        (S.SUBMITTED, S.WITHDRAWN),
        (S.SUBMITTED, S.PROVINCIAL_REVIEW, S.WITHDRAWN),
        (S.PROVINCIAL_REVIEW, S.NATIONAL_REVIEW, S.WITHDRAWN),
    ],
    S.SUSPENDED: [
        (S.NATIONAL_REVIEW, S.APPROVED, S.SUSPENDED),
        (S.APPROVED, S.SUSPENDED),
    ],
    S.CANCELLED: [
        (S.NATIONAL_REVIEW, S.APPROVED, S.CANCELLED),
        (S.NATIONAL_REVIEW, S.APPROVED, S.SUSPENDED, S.CANCELLED),
    ],
    S.REVOKED: [
        (S.NATIONAL_REVIEW, S.APPROVED, S.REVOKED),
        (S.NATIONAL_REVIEW, S.APPROVED, S.SUSPENDED, S.REVOKED),
    ],
}
# Registrations are reviewed by the provincial office alone.
REGISTRATION_PATHS = {
    **FILING_PATHS,
    S.APPROVED: [
        (S.PROVINCIAL_REVIEW, S.APPROVED),
        (S.SUBMITTED, S.PROVINCIAL_REVIEW, S.APPROVED),
        (S.SUBMITTED, S.PROVINCIAL_REVIEW, S.SUPPLEMENT_REQUESTED, S.PROVINCIAL_REVIEW, S.APPROVED),
    ],
    S.NATIONAL_REVIEW: [],
    S.REJECTED: [
        (S.SUBMITTED, S.PROVINCIAL_REVIEW, S.REJECTED),
        (S.SUBMITTED, S.PROVINCIAL_REVIEW, S.SUPPLEMENT_REQUESTED, S.REJECTED),
    ],
    S.WITHDRAWN: [(S.SUBMITTED, S.WITHDRAWN), (S.SUBMITTED, S.PROVINCIAL_REVIEW, S.WITHDRAWN)],
    S.SUSPENDED: [(S.PROVINCIAL_REVIEW, S.APPROVED, S.SUSPENDED)],
    S.CANCELLED: [(S.PROVINCIAL_REVIEW, S.APPROVED, S.CANCELLED)],
    S.REVOKED: [(S.PROVINCIAL_REVIEW, S.APPROVED, S.SUSPENDED, S.REVOKED)],
}


class BenchError(Exception):
    """The benchmark cannot run as asked; the message says why."""


# The benchmark's own database -------------------------------------------------------------


@dataclass
class BenchDatabase:
    """The database a benchmark or soak runs on: named by ``url``, as a user names one."""

    description: str
    url: str
    settings_dict: dict
    temporary_dir: str = ""
    reused: bool = False

    def environment(self):
        """The environment of a process that works on this database and no other; the
        second variable tells that process the database was checked."""
        env = {key: value for key, value in os.environ.items() if key != "SQLITE_PATH"}
        return {**env, "DATABASE_URL": self.url, PREPARED_VARIABLE: self.url}


PREPARED_VARIABLE = "TRACKER_CHECKED_DATABASE_URL"


def check_prepared():
    """Refuse to run ``--prepared`` on a database that ``prepare_database`` did not check
    and hand to this process."""
    url = os.environ.get(PREPARED_VARIABLE, "")
    if not url or url != settings.DATABASE_URL:
        raise BenchError("--prepared is for the process the command starts on a checked database.")


def _identity(settings_dict):
    """What tells two databases apart: a SQLite file by its resolved path, a server's
    database by its host, port and name (localhost and 127.0.0.1 are one host)."""
    name = str(settings_dict.get("NAME") or "")
    if settings_dict.get("ENGINE") == "django.db.backends.sqlite3":
        return ("sqlite3", str(Path(name).resolve()))
    host = settings_dict.get("HOST") or "localhost"
    host = "localhost" if host in ("127.0.0.1", "::1") else host
    return (settings_dict.get("ENGINE"), name, host, str(settings_dict.get("PORT") or "5432"))


def _sqlite_url(path):
    return "sqlite:///" + urllib.parse.quote(str(path))


def prepare_database(url=None):
    """The benchmark's database, checked without opening it through Django, refusing
    anything that could be real data.

    Without ``url``: a new SQLite file in a temporary directory, removed by
    ``remove_database``. With ``url``: that database (created when it is a missing
    PostgreSQL database or SQLite file), which must be empty or hold an earlier
    benchmark's data set, and must not be the configured development database.
    """
    development = _identity(settings.DATABASES["default"])
    if not url:
        directory = tempfile.mkdtemp(prefix="tracker-bench-")
        path = Path(directory) / "bench.sqlite3"
        return BenchDatabase(
            f"SQLite {path} (temporary)",
            _sqlite_url(path),
            dj_database_url.parse(_sqlite_url(path)),
            temporary_dir=directory,
        )
    try:
        settings_dict = dj_database_url.parse(url)
    except ValueError as exc:
        raise BenchError(f"Cannot read the database URL: {exc}") from exc
    engine = settings_dict["ENGINE"].rsplit(".", 1)[-1]
    if engine == "sqlite3":
        path = Path(settings_dict["NAME"]).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        url = _sqlite_url(path)
        settings_dict = dj_database_url.parse(url)
        if settings_dict["NAME"] != str(path):
            raise BenchError(f"Cannot name the file {path} in a database URL.")
    if _identity(settings_dict) == development:
        raise BenchError(
            "That is the development database; the benchmark only writes to a database of its own."
        )
    if engine == "sqlite3":
        tables = _sqlite_tables(Path(settings_dict["NAME"]))
    elif engine == "postgresql":
        tables = _postgresql_tables(settings_dict)
    else:
        raise BenchError(f"The benchmark runs on SQLite or PostgreSQL, not {engine}.")
    _refuse_foreign(tables, settings_dict["NAME"])
    return BenchDatabase(
        f"{engine} {settings_dict['NAME']}", url, settings_dict, reused=MARKER_TABLE in tables
    )


def _sqlite_tables(path):
    if not path.exists():
        return []
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            return [row[0] for row in db.execute("SELECT name FROM sqlite_master")]
    except sqlite3.Error as exc:
        raise BenchError(f"Cannot read {path}: {exc}") from exc


def _postgresql_tables(settings_dict):
    """The tables of the PostgreSQL database, created empty when it does not exist."""
    server = {
        "user": settings_dict.get("USER") or None,
        "password": settings_dict.get("PASSWORD") or None,
        "host": settings_dict.get("HOST") or None,
        "port": settings_dict.get("PORT") or None,
    }
    name = settings_dict["NAME"]
    try:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as server_db:
            exists = server_db.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if not exists:
                server_db.execute(
                    psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name))
                )
                return []
        with psycopg.connect(dbname=name, **server) as db:
            rows = db.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            ).fetchall()
    except psycopg.Error as exc:
        raise BenchError(f"Cannot use the PostgreSQL database {name}: {exc}") from exc
    return [row[0] for row in rows]


def _refuse_foreign(tables, name):
    if tables and MARKER_TABLE not in tables:
        raise BenchError(
            f"The database {name} holds tables but no benchmark data set; give the URL "
            "of an empty database (or of an earlier benchmark's)."
        )


def remove_database(database):
    if database.temporary_dir:
        shutil.rmtree(database.temporary_dir, ignore_errors=True)


def run_command(database, arguments):
    """Run ``manage.py`` with ``arguments`` in a new process on ``database``, as a user
    would with DATABASE_URL; its output goes where this process's goes. Its exit status."""
    manage = Path(settings.BASE_DIR) / "manage.py"
    result = subprocess.run(
        [sys.executable, str(manage), *arguments], env=database.environment(), check=False
    )
    return result.returncode


def dataset_parameters():
    """The (models, applicants, seed) of the data set in the current database, or None."""
    if MARKER_TABLE not in connection.introspection.table_names():
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT models, applicants, seed FROM {MARKER_TABLE}")
        row = cursor.fetchone()
    return tuple(row) if row else None


def _mark_dataset(spec):
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {MARKER_TABLE} (models integer, applicants integer, seed integer)"
        )
        cursor.execute(
            f"INSERT INTO {MARKER_TABLE} VALUES (%s, %s, %s)",
            [spec.models, spec.applicants, spec.seed],
        )


def migrate():
    """Apply the project's migrations; on a reused data set, refresh its statistics too,
    since a new index has none until the database is analysed."""
    call_command("migrate", interactive=False, verbosity=0)
    if MARKER_TABLE in connection.introspection.table_names():
        _analyze()


# Generating the data set ------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    models: int = 100_000
    applicants: int = 5_000
    seed: int = 1


def add_spec_arguments(parser, default):
    """The options that size a generated data set (benchmark and soak)."""
    parser.add_argument("--models", type=int, default=default.models, help="models to generate")
    parser.add_argument("--applicants", type=int, default=default.applicants, help="applicants")
    parser.add_argument(
        "--seed", type=int, default=default.seed, help="random seed of the data set"
    )


def spec_arguments(spec):
    """``add_spec_arguments``' options for ``spec``, to hand on to another process."""
    return [f"--models={spec.models}", f"--applicants={spec.applicants}", f"--seed={spec.seed}"]


def add_prepared_argument(parser):
    """The option by which a command runs itself on a database it has checked."""
    parser.add_argument("--prepared", choices=["new", "reused"], help=argparse.SUPPRESS)


def checked_spec(options):
    """The data set ``add_spec_arguments``' options ask for, or BenchError saying why not."""
    if options["models"] < 1 or options["applicants"] < 1:
        raise BenchError("--models and --applicants must be at least 1.")
    if options["applicants"] > options["models"]:
        raise BenchError("--applicants cannot exceed --models.")
    return Spec(options["models"], options["applicants"], options["seed"])


@dataclass
class Generated:
    seconds: float = 0.0
    counts: dict = field(default_factory=dict)


class _Names:
    """Unique names and slugs held in memory, so no row needs a query to be unique."""

    def __init__(self, rng):
        self.rng = rng
        self.slugs = {}

    def brand(self, syllables=2):
        pairs = [self.rng.choice(SYLLABLES) for _ in range(syllables)]
        return "".join(p[0] for p in pairs), [p[1] for p in pairs]

    def slug(self, base, fallback, max_length):
        # The tables start empty: slugs are unique among those made here.
        if max_length not in self.slugs:
            self.slugs[max_length] = Slugs(max_length=max_length)
        return self.slugs[max_length].make(base, fallback)


def _day(start, end, rng):
    return start + datetime.timedelta(days=rng.randrange((end - start).days + 1))


def _later(day, rng, mean_days, last):
    return min(day + datetime.timedelta(days=int(rng.expovariate(1 / mean_days))), last)


def _weighted(rng, weights, k):
    values = list(weights)
    return rng.choices(values, weights=[weights[v] for v in values], k=k)


def _make_batches(last_day):
    """About thirty notices, every six weeks from the first batch of 2023-08-31."""
    batches, day, n = [], datetime.date(2023, 8, 31), 1
    while day <= last_day:
        batches.append(
            Batch(
                id=n,
                slug=f"{day.isoformat()}-cac-batch",
                title_en=f"Generative AI filings announced {day.isoformat()}",
                title_zh=f"{day.isoformat()} 公布的生成式人工智能服务备案",
                announced_on=day,
                covers_until=day - datetime.timedelta(days=7),
            )
        )
        day, n = day + datetime.timedelta(days=41), n + 1
    Batch.objects.bulk_create(batches)
    return batches


def _make_applicants(spec, names, jurisdictions):
    rng = names.rng
    weights = {j: JURISDICTION_WEIGHTS.get(j.code, 1) for j in jurisdictions}
    chosen = _weighted(rng, weights, spec.applicants)
    seen, applicants = set(), []
    for i, jurisdiction in enumerate(chosen, start=1):
        kind_zh, kind_en, kind = rng.choice(COMPANY_KINDS)
        place = "中国" if jurisdiction.code == "SASAC" else jurisdiction.name_zh
        place_en = "China" if jurisdiction.code == "SASAC" else jurisdiction.name_en
        # Several hanzi share a romanisation, so both names are checked for uniqueness.
        for attempt in itertools.count():
            brand_zh, brand_py = names.brand(2 if attempt < 20 else 3)
            name_zh = f"{place}{brand_zh}{kind_zh}"
            name_en = f"{place_en} {''.join(brand_py).title()} {kind_en}"
            if name_zh not in seen and name_en not in seen:
                break
        seen.update((name_zh, name_en))
        # One in five is known only by its Chinese legal name, as in the published lists.
        if rng.random() < 0.2:
            name_en = ""
        if jurisdiction.code == "SASAC":
            kind = ApplicantKind.STATE_OWNED
        applicants.append(
            Applicant(
                id=i,
                name_zh=name_zh,
                name_en=name_en,
                slug=names.slug(slug_base(name_en, name_zh), "applicant", 80),
                jurisdiction=jurisdiction,
                kind=kind,
            )
        )
    for applicant in applicants:
        applicant.set_derived_fields()
    Applicant.objects.bulk_create(applicants, batch_size=1000)
    return applicants


def _model_name(rng, names, taken, applicant_id):
    """(name_zh, name_en, slug base, brand syllables), unique for the applicant.

    A few models' names were never reported; they keep both names empty.
    """
    brand_zh, brand_py = names.brand()
    roll = rng.random()
    if roll < 0.01:
        return "", "", "", brand_py
    noun_zh, noun_en, noun_py = rng.choice(MODEL_NOUNS)
    name_zh, name_en = brand_zh + noun_zh, f"{''.join(brand_py).title()} {noun_en}"
    version = 1
    while (applicant_id, name_zh) in taken or (applicant_id, name_en) in taken:
        version += 1
        name_zh = f"{brand_zh}{noun_zh} {version}.0"
        name_en = f"{''.join(brand_py).title()} {noun_en} {version}.0"
    taken.add((applicant_id, name_zh))
    taken.add((applicant_id, name_en))
    slug = slugify(f"{' '.join(brand_py)} {noun_py} {version if version > 1 else ''}")
    if roll < 0.23:
        return name_zh, "", slug, brand_py
    if roll < 0.29:
        return "", name_en, slugify(name_en), brand_py
    return name_zh, name_en, slug, brand_py


class _FilingNumbers:
    """Numbers in the published style: ``Beijing-YunQue-20230821`` in 2023, then a serial."""

    def __init__(self, rng):
        self.rng = rng
        self.serials = {}
        self.taken = set()

    def make(self, jurisdiction, brand_py, day, registration):
        token = jurisdiction.filing_token
        if token == "Zhejiang" and self.rng.random() < 0.3:
            token = "ZheJiang"
        brand = "".join(p.title() for p in brand_py)
        if registration:
            brand = f"DJ-{brand}"
        number = f"{token}-{brand}-{day:%Y%m%d}"
        if day.year >= 2024 or number in self.taken:
            serial = self.serials[day] = self.serials.get(day, 0) + 1
            number = f"{number}{serial:04d}"
        self.taken.add(number)
        return number


def _history_days(path, rng, last_day):
    """One non-decreasing day per step, the first somewhere in the register's life."""
    first = _day(FIRST_DAY, last_day - datetime.timedelta(days=30), rng)
    days = [first]
    for _step in path[1:]:
        days.append(_later(days[-1], rng, 45, last_day))
    return days


MODEL_COLUMNS = (
    "id",
    "name_zh",
    "name_en",
    "slug",
    "applicant_id",
    "filing_type",
    "scope",
    "sector",
    "upstream_id",
    "status",
    "filing_number",
    "submitted_on",
    "approved_on",
    "batch_id",
    "seq_no",
    "description",
    "internal_notes",
    "version",
    "created_at",
    "updated_at",
    "search_text",
    "aliases",
    "on_device_scenario",
    "approved_on_estimated",
    "name_key",
    "number_key",
    "sequence",
)
STEP_COLUMNS = ("model_id", "from_status", "to_status", "happened_on", "recorded_at", "note")


class _Generator:
    """The state one data set is drawn from: names, numbers and notices already used."""

    def __init__(self, rng, names, applicants, batches, last_day):
        self.rng, self.names, self.last_day = rng, names, last_day
        self.batches, self.announced = batches, [b.announced_on for b in batches]
        self.jurisdiction_of = {a.id: a.jurisdiction for a in applicants}
        self.names_of = {a.id: (a.name_zh, a.name_en) for a in applicants}
        self.numbers, self.taken_names = _FilingNumbers(rng), set()
        self.approved_filings, self.last_seq_no = [], {}
        self.date = connection.ops.adapt_datefield_value
        self.stamp = connection.ops.adapt_datetimefield_value(timezone.now())
        self.recorded = {}

    def model(self, model_id, applicant_id, status):
        """The row of one model and the rows of its history."""
        rng = self.rng
        registration = bool(self.approved_filings) and rng.random() < 0.4
        paths = (REGISTRATION_PATHS if registration else FILING_PATHS)[status]
        if not paths:
            status, paths = S.PROVINCIAL_REVIEW, REGISTRATION_PATHS[S.PROVINCIAL_REVIEW]
        path = rng.choice(paths)
        days = _history_days(path, rng, self.last_day)
        name_zh, name_en, slug_text, brand_py = _model_name(
            rng, self.names, self.taken_names, applicant_id
        )
        approved_on = days[path.index(S.APPROVED)] if S.APPROVED in path else None
        scope, sector = (
            (Scope.GENERAL, "") if rng.random() < 0.35 else (Scope.INDUSTRY, rng.choice(SECTORS))
        )
        filing_number, batch_id, seq_no = "", None, None
        if approved_on is not None:
            filing_number = self.numbers.make(
                self.jurisdiction_of[applicant_id], brand_py, approved_on, registration
            )
            batch_id, seq_no = self._notice(approved_on, registration)
            if not registration and status == S.APPROVED:
                self.approved_filings.append(model_id)
        row = (
            model_id,
            name_zh,
            name_en,
            self.names.slug(slug_text, f"model-{model_id}", 100),
            applicant_id,
            FilingType.REGISTRATION if registration else FilingType.FILING,
            scope,
            sector,
            rng.choice(self.approved_filings) if registration else None,
            status,
            filing_number,
            self.date(days[0]) if path[0] == S.SUBMITTED else None,
            self.date(approved_on),
            batch_id,
            seq_no,
            "",
            "",
            1,
            self.stamp,
            self.stamp,
            search_text(name_zh, name_en, *self.names_of[applicant_id]),
            "",
            "",
            False,
            match_key(name_zh or name_en),
            match_key(filing_number),
            Sequence.REGISTRATION if registration else Sequence.FILING,
        )
        steps = [
            (model_id, previous, to_status, self.date(day), self._recorded_at(day), "")
            for previous, to_status, day in zip(("", *path), path, days, strict=False)
        ]
        return row, steps

    def _notice(self, approved_on, registration):
        """The first notice published on or after the approval, and the row's 序号: filings
        and registrations each have their own running number, as in the published lists."""
        index = bisect.bisect_left(self.announced, approved_on)
        if index == len(self.batches):
            return None, None
        self.last_seq_no[registration] = self.last_seq_no.get(registration, 0) + 1
        return self.batches[index].id, self.last_seq_no[registration]

    def _recorded_at(self, day):
        if day not in self.recorded:
            moment = datetime.datetime.combine(day, datetime.time(18), tzinfo=CHINA)
            self.recorded[day] = connection.ops.adapt_datetimefield_value(moment)
        return self.recorded[day]


def generate(spec, log=lambda message: None):
    """Write the data set described by ``spec`` into the current (empty) database."""
    started = time.perf_counter()
    rng = random.Random(spec.seed)
    last_day = min(LAST_DAY, timezone.localdate())
    names = _Names(rng)
    jurisdictions = list(Jurisdiction.objects.order_by("pk"))
    with transaction.atomic():
        batches = _make_batches(last_day)
        applicants = _make_applicants(spec, names, jurisdictions)
    log(f"  {len(applicants):,} applicants, {len(batches)} batches")
    generator = _Generator(rng, names, applicants, batches, last_day)

    # A few applicants file hundreds or thousands of models; most file a handful.
    ranks = list(range(1, spec.applicants + 1))
    rng.shuffle(ranks)
    cumulative = list(itertools.accumulate(1 / rank**0.8 for rank in ranks))
    applicant_ids = [a.id for a in applicants]

    counts = {"models": 0, "status_changes": 0}
    for start in range(0, spec.models, CHUNK):
        size = min(CHUNK, spec.models - start)
        owners = rng.choices(applicant_ids, cum_weights=cumulative, k=size)
        statuses = _weighted(rng, STATUS_WEIGHTS, size)
        models, steps = [], []
        for offset, (applicant_id, status) in enumerate(zip(owners, statuses, strict=True)):
            row, history = generator.model(start + offset + 1, applicant_id, status)
            models.append(row)
            steps += history
        with transaction.atomic():
            insert_rows(AIModel, MODEL_COLUMNS, models)
            insert_rows(StatusChange, STEP_COLUMNS, steps)
        counts["models"] += len(models)
        counts["status_changes"] += len(steps)
        if (start // CHUNK) % 20 == 19:
            log(f"  {counts['models']:,} models")
    _finish_batches(batches)
    _reset_sequences()
    _mark_dataset(spec)
    _analyze()
    counts |= {"applicants": len(applicants), "batches": len(batches)}
    return Generated(seconds=time.perf_counter() - started, counts=counts)


def _finish_batches(batches):
    """Announced counts as the notices state them: close to, not always equal to, the rows."""
    entered = dict(
        AIModel.objects.filter(batch__isnull=False).values_list("batch").annotate(n=Count("pk"))
    )
    total = 0
    for batch in batches:
        batch.reported_new = entered.get(batch.id, 0) + (batch.id % 3 == 0)
        total += batch.reported_new
        batch.reported_total = total
    Batch.objects.bulk_update(batches, ["reported_new", "reported_total"])


def _reset_sequences():
    """Rows were written with explicit ids; PostgreSQL's sequences must catch up."""
    statements = connection.ops.sequence_reset_sql(
        no_style(), [Applicant, Batch, AIModel, StatusChange]
    )
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _analyze():
    """Fresh statistics, as a long-running database would have, so plans are realistic.

    On PostgreSQL, VACUUM also sets the visibility map that autovacuum would have set by
    now; without it no count can be answered from an index alone. VACUUM cannot run in a
    transaction, as in the test suite, where ANALYZE alone does.
    """
    vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")


# Measuring --------------------------------------------------------------------------------


@dataclass
class PageRow:
    label: str
    path: str
    status: str = ""
    median_ms: float | None = None
    p95_ms: float | None = None
    queries: int | None = None
    note: str = ""


@dataclass
class ExportRow:
    label: str
    path: str
    rows: int = 0
    seconds: float | None = None
    python_peak_mb: float | None = None
    rss_peak_mb: float | None = None
    cli_seconds: float | None = None
    note: str = ""

    @property
    def rows_per_second(self):
        return self.rows / self.seconds if self.seconds else None

    @property
    def ratio(self):
        return self.seconds / self.cli_seconds if self.seconds and self.cli_seconds else None

    @property
    def target(self):
        if self.ratio is None:
            return "n/a"
        return f"≤ {EXPORT_MAX_RATIO:g}×: {'met' if self.ratio <= EXPORT_MAX_RATIO else 'missed'}"


@dataclass
class ImportRow:
    rows: int
    seconds: float | None = None
    created: int = 0
    note: str = ""


def _get(client, path):
    """The response to ``path`` and the seconds it took, streamed content included."""
    started = time.perf_counter()
    response = client.get(path)
    if response.streaming:
        for _chunk in response.streaming_content:
            pass
    else:
        response.content  # noqa: B018 - a lazy body would be rendered outside the timing
    return response, time.perf_counter() - started


def page_targets():
    """(label, path) of every public page measured, chosen from the data in the database."""
    from tracker.public.pagination import PER_PAGE as per_page

    total = AIModel.objects.count()
    last_page = max(1, -(-total // per_page))
    applicant = (
        Applicant.objects.annotate(n=Count("models")).order_by("-n", "pk").values("slug", "n")
    ).first() or {"slug": "none", "n": 0}
    batch = (
        Batch.objects.annotate(n=Count("models")).order_by("-n", "pk").values("slug", "n")
    ).first() or {"slug": "none", "n": 0}
    detail = (
        AIModel.objects.filter(filing_type=FilingType.REGISTRATION, status=S.APPROVED)
        .order_by("pk")
        .values_list("slug", flat=True)
        .first()
        or AIModel.objects.order_by("pk").values_list("slug", flat=True).first()
        or "none"
    )
    name = (
        AIModel.objects.exclude(name_zh="")
        .order_by("pk")
        .values_list("name_zh", flat=True)[total // 2 : total // 2 + 1]
        .first()
    )
    rare = (name or "智元")[:2]

    def models(**params):
        return "/en/models/?" + urlencode(params)

    # A deep page should cost what the first costs: the first, the thousandth and the last
    # page of the default order and of one other.
    depth_rows = [
        (f"models{label}, page {number:,}", models(**sort, page=number))
        for label, sort in (("", {}), (" by name", {"sort": "name"}))
        for number in sorted({1, min(1000, last_page), last_page})
    ]
    return [
        ("overview", "/en/"),
        ("models", "/en/models/"),
        ("models, pending status", models(status=S.NATIONAL_REVIEW)),
        ("models, jurisdiction", models(jurisdiction="BJ")),
        ("models, status+jurisdiction", models(status=S.APPROVED, jurisdiction="ZJ")),
        ("models, search (rare)", models(q=rare)),
        ("models, search (common)", models(q="assistant")),
        ("models, sort -approved_on", models(sort="-approved_on")),
        ("models, sort name", models(sort="name")),
        *depth_rows,
        ("model detail", f"/en/models/{detail}/"),
        ("applicants", "/en/applicants/"),
        (f"applicant ({applicant['n']:,} models)", f"/en/applicants/{applicant['slug']}/"),
        ("batches", "/en/batches/"),
        (f"batch ({batch['n']:,} models)", f"/en/batches/{batch['slug']}/"),
        ("backlog", "/en/backlog/"),
        ("reports", "/en/reports/"),
        ("feed", "/feeds/approvals/"),
        ("changes feed", "/feeds/changes/"),
        ("api models, approved", API_APPROVED + "&page_size=100"),
        ("api models, jurisdiction", "/api/v1/models/?jurisdiction=BJ&page_size=100"),
        ("api models, search", "/api/v1/models/?q=assistant&page_size=100"),
        ("api model detail", f"/api/v1/models/{detail}/"),
        ("api changes", "/api/v1/changes/?page_size=100"),
        ("api applicants", "/api/v1/applicants/?page_size=100"),
    ]


def measure_page(client, label, path, repeat):
    row = PageRow(label, path)
    try:
        for _ in range(WARMUP_REQUESTS):
            _get(client, path)
        with CaptureQueriesContext(connection) as queries:
            response, _seconds = _get(client, path)
        # Counted now: the next request's request_started signal empties the query log.
        row.queries = len(queries)
        timings = [_get(client, path)[1] * 1000 for _ in range(repeat)]
    except Exception as exc:  # noqa: BLE001 - a broken page is a row of the table, not a crash
        row.status = "error"
        row.note = f"{type(exc).__name__}: {exc}"[:200]
        return row
    row.status = str(response.status_code)
    row.median_ms = statistics.median(timings)
    row.p95_ms = percentile(timings, 0.95)
    return row


def measure_pages(repeat, log=lambda message: None):
    client = Client()
    rows = []
    # One client asks for everything: the per-client limits would refuse most of it.
    with override_settings(**NO_LIMITS):
        for label, path in page_targets():
            rows.append(measure_page(client, label, path, repeat))
            log(f"  {label}: {rows[-1].status}")
    return rows


# The API ----------------------------------------------------------------------------------

API_APPROVED = "/api/v1/models/?status=approved"
UNLIMITED = "1000000000/second"
# The settings of tracker.limits, each without a limit.
NO_LIMITS = {name: UNLIMITED for name in ("API_RATE", "EXPORT_RATE", "SEARCH_RATE", "FEED_RATE")}


@dataclass
class APIRow:
    label: str
    path: str
    status: str = ""
    median_ms: float | None = None
    queries: int | None = None
    rows: int | None = None
    seconds: float | None = None
    csv_seconds: float | None = None
    note: str = ""
    # The target: a median in ms, or a ratio to the CSV export.
    max_ms: float | None = None
    max_ratio: float | None = None

    @property
    def ratio(self):
        return self.seconds / self.csv_seconds if self.seconds and self.csv_seconds else None

    @property
    def target(self):
        if self.max_ms is not None:
            met = self.median_ms is not None and self.median_ms <= self.max_ms
            return f"≤ {self.max_ms:g} ms: {'met' if met else 'missed'}"
        met = self.ratio is not None and self.ratio <= self.max_ratio
        return f"≤ {self.max_ratio:g}× CSV: {'met' if met else 'missed'}"


def measure_not_modified(client, path, repeat):
    """A conditional request that the register has not outdated: a 304."""
    row = APIRow("304 answer", path, max_ms=2)
    etag = client.get(path)["ETag"]
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, HTTP_IF_NONE_MATCH=etag)
    row.status, row.queries = str(response.status_code), len(queries)
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(path, HTTP_IF_NONE_MATCH=etag)
        timings.append(time.perf_counter() - started)
    row.median_ms = statistics.median(timings) * 1000
    return row


def walk(client, path):
    """Every page of an API listing, following ``next``: (records, server seconds, last
    status). The client's own reading of each page is not timed, as the export's is not."""
    seconds, records, url, status = 0.0, 0, path, 200
    while url:
        started = time.perf_counter()
        response = client.get(url)
        seconds += time.perf_counter() - started
        status = response.status_code
        if status != 200:
            break
        # Read from the bytes: ``response.json()`` would keep the parsed page on the test
        # client's response, in a cycle that only a full garbage collection frees, and that
        # collection would then be paid inside a later timed request.
        page = json.loads(response.content)
        records += len(page["results"])
        url = page["next"]
    return records, seconds, status


def measure_walk(client):
    """Every approved model through the API at 1,000 a page, against the CSV export of the
    same rows: the median of TIMED_RUNS walks and of as many exports."""
    path = API_APPROVED + "&page_size=1000"
    row = APIRow("walk approved", path, max_ratio=3)
    walks = [walk(client, path) for _ in range(TIMED_RUNS)]
    row.rows, _seconds, status = walks[-1]
    row.seconds = statistics.median(seconds for _records, seconds, _status in walks)
    row.status = str(status)
    csv_path = f"{EXPORT_PATH}?status=approved"
    _status, lines = _streamed_lines(client, csv_path)
    row.csv_seconds = _median_seconds(lambda: _streamed_lines(client, csv_path))
    if lines - 1 != row.rows:
        row.note = f"the CSV export has {lines - 1:,} rows, the API gave {row.rows:,}"
    return row


def measure_api(repeat, log=lambda message: None):
    client = Client()
    with override_settings(**NO_LIMITS):
        page = measure_page(client, "approved page", API_APPROVED + "&page_size=100", repeat)
        rows = [
            APIRow(
                page.label,
                page.path,
                page.status,
                page.median_ms,
                page.queries,
                note=page.note,
                max_ms=15,
            ),
            measure_not_modified(client, API_APPROVED + "&page_size=100", repeat),
        ]
        log(f"  304: {rows[-1].status}")
        rows.append(measure_walk(client))
        log(f"  walk: {rows[-1].rows:,} records")
    return rows


# Export -----------------------------------------------------------------------------------

EXPORT_PATH = "/models/export.csv"


def _tenth_day():
    """The approval day from which on about a tenth of all models were approved."""
    total = AIModel.objects.count()
    index = max(0, total // 10 - 1)
    return (
        AIModel.objects.filter(approved_on__isnull=False)
        .order_by("-approved_on")
        .values_list("approved_on", flat=True)[index : index + 1]
        .first()
    )


def _reset_rss_peak():
    """Reset the kernel's high-water mark of this process's resident memory (Linux only)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return None
    return _proc_status_kb("VmRSS")


def _proc_status_kb(key):
    with contextlib.suppress(OSError), open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def _export_memory(client, path):
    """Peaks while streaming ``path``, in MB: Python's allocations, and resident memory.

    tracemalloc sees only Python objects (the rows and the CSV text); the resident peak
    also counts the database driver's buffers. The kernel's high-water mark is reset
    first, so the second number is the process's peak during this export alone.
    """
    rss_reset = _reset_rss_peak() is not None
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        _get(client, path)
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_peak = _proc_status_kb("VmHWM") if rss_reset else None
    return peak / 2**20, rss_peak / 1024 if rss_peak else None


def export_sql(since=None):
    """The export's join in plain SQL, for the command-line client to run on the same file."""
    model, applicant = AIModel._meta.db_table, Applicant._meta.db_table
    jurisdiction, batch = Jurisdiction._meta.db_table, Batch._meta.db_table
    pending = ", ".join(f"'{status}'" for status in PENDING_STATUSES)
    today = timezone.localdate().isoformat()
    if connection.vendor == "sqlite":
        days = (
            f"CAST(julianday(CASE WHEN m.status IN ({pending}) THEN '{today}' "
            "ELSE m.approved_on END) - julianday(m.submitted_on) AS INTEGER)"
        )
    else:
        days = (
            f"(CASE WHEN m.status IN ({pending}) THEN DATE '{today}' "
            "ELSE m.approved_on END) - m.submitted_on"
        )
    where = f"WHERE m.approved_on >= '{since.isoformat()}'" if since else ""
    estimated = (
        "CASE WHEN m.approved_on IS NULL THEN NULL WHEN m.approved_on_estimated "
        "THEN 'true' ELSE 'false' END"
    )
    return (
        "SELECT m.filing_number, m.name_zh, m.name_en, a.name_zh, a.name_en, j.code, "
        "m.filing_type, m.scope, m.sector, m.status, m.submitted_on, m.approved_on, b.slug, "
        f"{days}, '/models/' || m.slug || '/', {estimated}, m.seq_no, u.filing_number, "
        "m.on_device_scenario "
        f"FROM {model} m JOIN {applicant} a ON a.id = m.applicant_id "
        f"LEFT JOIN {jurisdiction} j ON j.id = a.jurisdiction_id "
        f"LEFT JOIN {batch} b ON b.id = m.batch_id "
        f"LEFT JOIN {model} u ON u.id = m.upstream_id {where} "
        "ORDER BY m.approved_on DESC NULLS LAST, m.id"
    )


def _cli_command(sql):
    """The command line that writes ``sql``'s rows as CSV, or None when no client exists."""
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        client = shutil.which("sqlite3")
        return ([client, "-csv", "-header", settings_dict["NAME"], sql], {}) if client else None
    client = shutil.which("psql")
    if client is None:
        return None
    env = {**os.environ, "PGPASSWORD": str(settings_dict.get("PASSWORD") or "")}
    args = [client, "-X", "-q", "-d", settings_dict["NAME"]]
    for flag, key in (("-h", "HOST"), ("-p", "PORT"), ("-U", "USER")):
        if settings_dict.get(key):
            args += [flag, str(settings_dict[key])]
    return [*args, "-c", f"\\copy ({sql}) to stdout csv header"], env


def _cli_seconds(sql):
    command = _cli_command(sql)
    if command is None:
        return None
    args, env = command
    return _median_seconds(
        lambda: subprocess.run(args, stdout=subprocess.DEVNULL, check=True, env=env or None)
    )


# Each export, its command-line floor and the API walk are timed this often; the median is
# reported.
TIMED_RUNS = 3
# The export's target: at most this many times the command-line client's time.
EXPORT_MAX_RATIO = 2


def _median_seconds(run):
    timings = []
    for _ in range(TIMED_RUNS):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def _streamed_lines(client, path):
    """Fetch ``path`` and count its lines as they stream by; the status code and lines."""
    response = client.get(path)
    return response.status_code, sum(chunk.count(b"\n") for chunk in response.streaming_content)


def measure_export(log=lambda message: None):
    """Every row and about a tenth of them: time (the median of TIMED_RUNS), rows per
    second, peak memory, and the command-line client's time for the same rows."""
    client = Client()
    since = _tenth_day()
    rows = [
        ExportRow(label, EXPORT_PATH + (f"?approved_after={day.isoformat()}" if day else ""))
        for label, day in (("export 10%", since), ("export 100%", None))
    ]
    try:
        with override_settings(**NO_LIMITS):
            _time_exports(client, rows, log)
    except Exception as exc:  # noqa: BLE001 - reported in the table
        rows[-1].note = f"{type(exc).__name__}: {exc}"[:200]
        return rows
    for row, day in zip(rows, (since, None), strict=True):
        try:
            row.cli_seconds = _cli_seconds(export_sql(day))
        except (OSError, subprocess.CalledProcessError) as exc:
            row.note = f"command-line client failed: {exc}"[:200]
    return rows


def _time_exports(client, rows, log):
    # Memory first and the smaller export first, so neither peak is an earlier one's.
    for row in rows:
        row.python_peak_mb, row.rss_peak_mb = _export_memory(client, row.path)
    for row in rows:
        status, lines = _streamed_lines(client, row.path)
        row.rows = max(0, lines - 1)  # the header is one line
        if status != 200:
            row.note = f"status {status}"
        row.seconds = _median_seconds(lambda path=row.path: _streamed_lines(client, path))
        log(f"  {row.label}: {row.rows:,} rows")


# Bulk downloads ---------------------------------------------------------------------------

DOWNLOADS_TARGET_SECONDS = 30


@dataclass
class DownloadsRow:
    models: int = 0
    seconds: float | None = None
    megabytes: float | None = None
    python_peak_mb: float | None = None
    rss_peak_mb: float | None = None
    note: str = ""

    @property
    def target(self):
        if self.seconds is None:
            return "n/a"
        met = self.seconds <= DOWNLOADS_TARGET_SECONDS
        return f"≤ {DOWNLOADS_TARGET_SECONDS} s: {'met' if met else 'MISSED'}"


def measure_downloads(log=lambda message: None):
    """Time ``build_downloads --force`` into a temporary directory, then build again under
    tracemalloc for the peaks: Python's allocations, and the process's resident set."""
    from tracker.opendata import files

    row = DownloadsRow(AIModel.objects.count())
    previous = settings.DOWNLOADS_ROOT
    with tempfile.TemporaryDirectory(prefix="tracker-bench-downloads-") as directory:
        settings.DOWNLOADS_ROOT = directory
        try:
            started = time.perf_counter()
            result = files.build(force=True)
            row.seconds = time.perf_counter() - started
            row.megabytes = sum(f["size"] for f in result.manifest["files"]) / 2**20
            rss_reset = _reset_rss_peak() is not None
            tracemalloc.start()
            try:
                files.build(force=True)
                _size, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            rss_peak = _proc_status_kb("VmHWM") if rss_reset else None
            row.python_peak_mb = peak / 2**20
            row.rss_peak_mb = rss_peak / 1024 if rss_peak else None
        except Exception as exc:  # noqa: BLE001 - reported in the table
            row.note = f"{type(exc).__name__}: {exc}"[:200]
        finally:
            settings.DOWNLOADS_ROOT = previous
    log(f"  build_downloads: {row.models:,} models")
    return row


# Import -----------------------------------------------------------------------------------

IMPORT_BATCH_SLUG = "benchmark-import"


def write_published_list(path, rows, seed):
    """A published list of ``rows`` new approvals: half by known applicants, half by new."""
    rng = random.Random(seed + 1)
    names = _Names(rng)
    jurisdictions = list(Jurisdiction.objects.all())
    known = list(
        Applicant.objects.exclude(name_zh="")
        .select_related("jurisdiction")
        .order_by("pk")
        .values_list("name_zh", "jurisdiction__name_zh")[:2000]
    )
    numbers = _FilingNumbers(rng)
    today = timezone.localdate()
    # The next list's national filings go on from the register's last 序号.
    last = AIModel.objects.filter(sequence=Sequence.FILING).aggregate(last=Max("seq_no"))["last"]
    start = (last or 0) + 1
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["序号", "属地", "模型名称", "备案单位", "备案号", "备案时间"])
        for seq_no in range(start, start + rows):
            # Three-syllable brands never occur in the generated register, so every row is new.
            brand_zh, brand_py = names.brand(3)
            noun_zh = rng.choice(MODEL_NOUNS)[0]
            if known and rng.random() < 0.5:
                applicant, place = rng.choice(known)
            else:
                jurisdiction = rng.choice(jurisdictions)
                place = jurisdiction.name_zh
                applicant = f"{place}{names.brand(3)[0]}{rng.choice(COMPANY_KINDS)[0]}"
            jurisdiction = next(j for j in jurisdictions if j.name_zh == place)
            day = _day(today - datetime.timedelta(days=60), today, rng)
            number = numbers.make(jurisdiction, brand_py, day, registration=False)
            writer.writerow([seq_no, place, f"{brand_zh}{noun_zh}", applicant, number, day])


def measure_import(rows=10_000, seed=1, log=lambda message: None):
    """Time ``importer.import_list`` on a generated list; the import is rolled back after."""
    from tracker.importing import lists as importer

    row = ImportRow(rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "published-list.csv"
        write_published_list(path, rows, seed)
        with transaction.atomic():
            batch = Batch.objects.create(
                slug=IMPORT_BATCH_SLUG,
                title_en="Benchmark import",
                announced_on=timezone.localdate(),
            )
            started = time.perf_counter()
            try:
                result = importer.import_list(importer.read_path(path), batch=batch)
            except Exception as exc:  # noqa: BLE001 - reported in the table
                row.note = f"{type(exc).__name__}: {exc}"[:200]
                transaction.set_rollback(True)
                return row
            row.seconds = time.perf_counter() - started
            row.created = result.created_models
            if result.bad_rows:
                row.note = f"{len(result.bad_rows)} rows refused: {result.problem_lines()[:1]}"
            # Rolled back so that a reused data set stays exactly as generated.
            transaction.set_rollback(True)
    log(f"  import: {row.created:,} models")
    return row


# Output -----------------------------------------------------------------------------------


def _fmt(value, spec=",.1f"):
    return "" if value is None else format(value, spec)


def _table(header, rows):
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for r in [header, *rows]:
        cells = [
            str(c).ljust(w) if i < 2 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def api_report_lines(rows):
    lines = [
        "",
        "API: a page and a 304 (median server time), and every approved model at 1,000 a "
        f"page (server time, the median of {TIMED_RUNS} walks) against the CSV export of the "
        "same rows",
    ]
    lines += _table(
        (
            "api",
            "path",
            "status",
            "median ms",
            "queries",
            "records",
            "seconds",
            "CSV s",
            "ratio",
            "target",
        ),
        [
            (
                r.label,
                r.path,
                r.status,
                _fmt(r.median_ms, ".2f"),
                _fmt(r.queries, "d"),
                _fmt(r.rows, ",d"),
                _fmt(r.seconds, ".2f"),
                _fmt(r.csv_seconds, ".2f"),
                _fmt(r.ratio, ".1f"),
                r.target,
            )
            for r in rows
        ],
    )
    lines += [f"  {r.label}: {r.note}" for r in rows if r.note]
    return lines


def report_lines(pages, exports, imported, repeat):
    lines = [f"Pages: server time over {repeat} requests after warm-up, in-process test client"]
    lines += _table(
        ("page", "path", "status", "median ms", "p95 ms", "queries"),
        [
            (p.label, p.path, p.status, _fmt(p.median_ms), _fmt(p.p95_ms), _fmt(p.queries, "d"))
            for p in pages
        ],
    )
    lines += [f"  {p.label}: {p.note}" for p in pages if p.note]
    cli = "sqlite3 -csv" if connection.vendor == "sqlite" else "psql \\copy"
    lines += [
        "",
        f"Export {EXPORT_PATH}: the median of {TIMED_RUNS} runs, and of {TIMED_RUNS} of {cli};"
        " peaks while streaming (Python allocations, process resident set)",
    ]
    lines += _table(
        (
            "export",
            "path",
            "rows",
            "seconds",
            "rows/s",
            "py peak MB",
            "rss peak MB",
            f"{cli} s",
            "ratio",
            "target",
        ),
        [
            (
                e.label,
                e.path,
                _fmt(e.rows, ",d"),
                _fmt(e.seconds, ".2f"),
                _fmt(e.rows_per_second, ",.0f"),
                _fmt(e.python_peak_mb),
                _fmt(e.rss_peak_mb),
                _fmt(e.cli_seconds, ".2f") if e.cli_seconds is not None else "n/a",
                _fmt(e.ratio, ".2f"),
                e.target,
            )
            for e in exports
        ],
    )
    lines += [f"  {e.label}: {e.note}" for e in exports if e.note]
    lines += ["", "Import of a published list (tracker.importing.lists.import_list, rolled back)"]
    lines += _table(
        ("import", "rows", "seconds", "rows/s", "created"),
        [
            (
                "import",
                _fmt(imported.rows, ",d"),
                _fmt(imported.seconds, ".2f"),
                _fmt(imported.rows / imported.seconds if imported.seconds else None, ",.0f"),
                _fmt(imported.created, ",d"),
            )
        ],
    )
    if imported.note:
        lines.append(f"  import: {imported.note}")
    return lines


def downloads_lines(row):
    lines = [
        "",
        "Bulk downloads (build_downloads --force: SQLite, CSV and JSON Lines zip, lists; peaks "
        "of a second build: Python allocations, process resident set)",
    ]
    lines += _table(
        ("build", "models", "seconds", "MB written", "py peak MB", "rss peak MB", "target"),
        [
            (
                "build_downloads",
                _fmt(row.models, ",d"),
                _fmt(row.seconds, ".2f"),
                _fmt(row.megabytes),
                _fmt(row.python_peak_mb),
                _fmt(row.rss_peak_mb),
                row.target,
            )
        ],
    )
    if row.note:
        lines.append(f"  build_downloads: {row.note}")
    return lines


# Throughput beside Datasette ----------------------------------------------------------------

COMPARE_SECONDS = 20
COMPARE_CLIENTS = 8
COMPARE_WORKERS = 2
COMPARE_DETAILS = 50
# The target: this many times Datasette's requests per second.
COMPARE_MIN_RATIO = 8


@dataclass
class ThroughputRow:
    server: str
    command: str
    requests: int = 0
    seconds: float = 0.0
    p50_ms: float | None = None
    p95_ms: float | None = None
    failed: int = 0
    note: str = ""

    @property
    def requests_per_second(self):
        return self.requests / self.seconds if self.seconds and self.requests else None


def compare_paths(database_name):
    """(ours, Datasette's): the approved models' listing and the pages of a few models
    spread over the register, the listing every other request. Datasette shows a page
    as long as ours."""
    from tracker.public.pagination import PER_PAGE as per_page

    table = AIModel._meta.db_table
    step = max(1, AIModel.objects.count() // COMPARE_DETAILS)
    models = AIModel.objects.order_by("pk").values_list("pk", "slug")[::step][:COMPARE_DETAILS]
    ours, theirs = [], []
    for pk, slug in models:
        ours += ["/en/models/?status=approved", f"/en/models/{slug}/"]
        theirs += [
            f"/{database_name}/{table}?status=approved&_size={per_page}",
            f"/{database_name}/{table}/{pk}",
        ]
    return ours, theirs


def _fetch_for(base, paths, seconds, clients):
    """Every client's requests for ``seconds``, after one request to every path (caches
    warm, as a server's are); the traffic (soak.Traffic) and the seconds it took."""
    from concurrent.futures import ThreadPoolExecutor

    from tracker.perf import soak

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    for path in dict.fromkeys(paths):
        with contextlib.suppress(OSError), opener.open(base + path, timeout=120) as response:
            response.read()
    started = time.monotonic()
    deadline = started + seconds
    traffic = soak.Traffic()
    with ThreadPoolExecutor(clients) as pool:
        jobs = [pool.submit(soak.fetch_until, base, paths, deadline, n) for n in range(clients)]
        for job in jobs:
            traffic.add(job.result())
    return traffic, time.monotonic() - started


def _throughput(row, traffic, seconds):
    timings = [s * 1000 for s in traffic.all_latencies]
    row.seconds = seconds
    row.requests = sum(n for status, n in traffic.statuses.items() if status == 200)
    row.failed = traffic.served - row.requests + len(traffic.errors)
    if timings:
        row.p50_ms, row.p95_ms = percentile(timings, 0.5), percentile(timings, 0.95)
    if row.failed:
        first = traffic.errors[:1] or [f"statuses {dict(traffic.statuses)}"]
        row.note = f"{row.failed:,} requests failed: {first[0]}"[:200]


def _measure_ours(database, paths, seconds, clients, workdir):
    from tracker.perf import soak

    row = ThroughputRow("tracker", f"gunicorn, {COMPARE_WORKERS} workers, production settings")
    env = soak.server_environment(database, Path(workdir) / "static")
    try:
        with soak.own_redis(workdir) as cache_url:
            if cache_url:
                env["CACHE_URL"] = cache_url
                row.command += ", Redis cache"
            soak.collect_static(env)
            port = soak.free_port()
            command = soak.gunicorn(port, COMPARE_WORKERS)
            with soak.serving(command, env, port, Path(workdir) / "gunicorn.log") as server:
                _throughput(row, *_fetch_for(server.base, paths, seconds, clients))
    except soak.SoakError as exc:
        row.note = str(exc)[:200]
    return row


def _measure_datasette(path, paths, seconds, clients, workdir):
    import importlib.metadata

    from tracker.perf import soak

    try:
        version = importlib.metadata.version("datasette")
    except importlib.metadata.PackageNotFoundError:
        return ThroughputRow("datasette", "", note="not installed: pip install datasette")
    row = ThroughputRow("datasette", f"datasette {version} serve -i (immutable)")
    # An immutable file is read without its write-ahead log: everything goes into it first.
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    port = soak.free_port()
    command = [sys.executable, "-m", "datasette", "serve", "-i", str(path), "--port", str(port)]
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    try:
        with soak.serving(command, env, port, Path(workdir) / "datasette.log") as server:
            _throughput(row, *_fetch_for(server.base, paths, seconds, clients))
    except soak.SoakError as exc:
        row.note = str(exc)[:200]
    return row


def measure_compare(
    database, seconds=COMPARE_SECONDS, clients=COMPARE_CLIENTS, log=lambda message: None
):
    """Requests per second and latencies of gunicorn with production settings and of
    Datasette serving the same SQLite file, one after the other, ``clients`` threads
    each, full answers (no If-None-Match)."""
    path = Path(database.settings_dict["NAME"])
    ours, theirs = compare_paths(path.stem)
    with tempfile.TemporaryDirectory(prefix="tracker-compare-") as workdir:
        log(f"  tracker: {seconds:g} s, {clients} clients")
        rows = [_measure_ours(database, ours, seconds, clients, workdir)]
        log(f"  datasette: {seconds:g} s, {clients} clients")
        rows.append(_measure_datasette(path, theirs, seconds, clients, workdir))
    return rows


def compare_ratio(rows):
    ours, theirs = (row.requests_per_second for row in rows)
    return ours / theirs if ours and theirs else None


def compare_lines(rows, clients):
    lines = [
        "",
        f"Throughput side by side on the same SQLite file: {clients} clients, the approved "
        "models' listing and model pages in turn, full answers (no If-None-Match)",
    ]
    lines += _table(
        ("server", "how", "requests", "seconds", "req/s", "p50 ms", "p95 ms", "failed"),
        [
            (
                r.server,
                r.command,
                _fmt(r.requests, ",d"),
                _fmt(r.seconds, ".1f"),
                _fmt(r.requests_per_second),
                _fmt(r.p50_ms),
                _fmt(r.p95_ms),
                _fmt(r.failed, ",d"),
            )
            for r in rows
        ],
    )
    lines += [f"  {r.server}: {r.note}" for r in rows if r.note]
    ratio = compare_ratio(rows)
    if ratio is None:
        lines.append("ratio: n/a")
    else:
        met = "met" if ratio >= COMPARE_MIN_RATIO else "MISSED"
        lines.append(
            f"ratio: {ratio:.1f}× Datasette's requests per second (≥ {COMPARE_MIN_RATIO}×: {met})"
        )
    return lines
