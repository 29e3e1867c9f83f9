"""What every column of the bulk downloads means, in English and Chinese, and its type.

One description per column serves both files: the CSV zip's ``datapackage.json``
(a Frictionless Data Package, each CSV with its Table Schema) and the SQLite file's
``README`` table. The CSV columns are those of the site's exports
(tracker.analysis.exports); the SQLite tables hold the register's records with their ids,
so that they join.
"""

from dataclasses import dataclass

from tracker.analysis.exports import APPLICANT_HEADER, BATCH_HEADER, HISTORY_HEADER, MODEL_HEADER
from tracker.models import ApplicantKind, DatePrecision, FilingType, Scope, Sequence, Status

PACKAGE_NAME = "cac-generative-ai-register"
TITLE_EN = "Register of generative AI services filed with the Cyberspace Administration of China"
TITLE_ZH = "生成式人工智能服务备案登记册"
SOURCE_EN = (
    "The lists of filed (备案) and registered (登记) generative AI services that the "
    "Cyberspace Administration of China publishes with its notices, transcribed as published "
    "and corrected where the register says so; submissions still in review, rejected or "
    "withdrawn come from public announcements and news reports, each cited on its model's page."
)
SOURCE_ZH = (
    "国家互联网信息办公室随公告发布的生成式人工智能服务备案与登记名单，按公布原文录入，"
    "更正之处在登记册中注明；审核中、未通过或已撤回的申请来自公开公告与新闻报道，"
    "出处见各模型页面。"
)
TERMS_EN = (
    "The published lists are public notices of a government authority. Cite the register "
    "with its address and the date the files are as of; cite the CAC's notices for the "
    "published lists themselves."
)
TERMS_ZH = (
    "名单为政府机关公开发布的公告。引用本登记册时请注明网址及数据截至日期；"
    "名单本身请引用国家网信办公告。"
)


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # a Table Schema type: string, integer, boolean, date, datetime
    en: str
    zh: str
    # The SQLite column's constraints, after its type.
    sql: str = ""
    enum: tuple = ()

    def schema(self):
        """The field's Table Schema descriptor."""
        descriptor = {
            "name": self.name,
            "type": self.type,
            "description": self.en,
            "description_zh": self.zh,
        }
        if self.type == "boolean":
            descriptor |= {"trueValues": ["true"], "falseValues": ["false"]}
        if self.enum:
            descriptor["constraints"] = {"enum": list(self.enum)}
        return descriptor

    @property
    def sql_type(self):
        return "INTEGER" if self.type in ("integer", "boolean") else "TEXT"


@dataclass(frozen=True)
class Table:
    name: str
    en: str
    zh: str
    fields: tuple

    @property
    def field_names(self):
        return [field.name for field in self.fields]


def _values(choices):
    return tuple(choices.values)


STATUS_EN = (
    "Where the submission stands. Pending: submitted, provincial_review, "
    "supplement_requested, national_review. Decided: approved, rejected, withdrawn; after "
    "an approval: suspended, cancelled (注销), revoked (撤销)."
)
STATUS_ZH = (
    "审核状态。审核中：submitted 已提交、provincial_review 省级审核、supplement_requested "
    "补充材料、national_review 国家审核；已决定：approved 已备案、rejected 未通过、withdrawn "
    "已撤回；备案之后：suspended 暂停、cancelled 注销、revoked 撤销。"
)


def _status(name, en=STATUS_EN, zh=STATUS_ZH, sql=""):
    return Field(name, "string", en, zh, sql=sql, enum=_values(Status))


# Columns that mean the same in several files.
FILING_NUMBER = (
    "Filing number (备案号) or registration number (上线编号) as published; empty while "
    "a submission is pending.",
    "备案号或上线编号，按公布原文；审核中的申请为空。",
)
MODEL_NAME_ZH = (
    "The model's Chinese name; empty when not reported.",
    "模型中文名称；未报道的为空。",
)
MODEL_NAME_EN = ("The model's English name; empty when not known.", "模型英文名称；未知的为空。")
APPLICANT_NAME_ZH = (
    "The applicant's legal name in Chinese (备案单位); empty when only the English name is known.",
    "申请单位（备案单位）的中文法定名称；只知道英文名称时为空。",
)
APPLICANT_NAME_EN = (
    "The applicant's English name; empty when not known.",
    "申请单位英文名称；未知的为空。",
)
JURISDICTION_CODE = (
    "Code of the applicant's province-level region (属地); SASAC for central state-owned "
    "enterprises.",
    "申请单位属地（省级行政区）代码；中央企业为 SASAC。",
)
FILING_TYPE = (
    "filing: filed (备案) with the national CAC after provincial review; registration: "
    "registered (登记) with the provincial office, an app that calls a filed model.",
    "filing：经省级审核后向国家网信办备案；registration：向省级网信办登记，即调用已备案模型的应用。",
)
SCOPE = ("general, or industry (industry-specific).", "general 为通用，industry 为行业专用。")
SECTOR = ("The industry of an industry-specific model.", "行业专用模型所属行业。")
SUBMITTED_ON = (
    "The day the submission was made, when known (the published lists do not say).",
    "提交申请的日期（已知时填写；公布名单不含此项）。",
)
APPROVED_ON = (
    "The filing date (备案时间) or registration date (登记时间).",
    "备案时间或登记时间。",
)
ESTIMATED = (
    "true when the approval date is the date of the notice that listed the model, not a "
    "known one; empty without an approval date.",
    "为 true 时，批准日期取自公布该模型的公告日期，而非已知日期；无批准日期时为空。",
)
SEQ_NO = (
    "序号: the row's number in the published lists. National filings, registrations and "
    "on-device filings each have their own running number.",
    "序号：该行在公布名单中的编号。全国备案、登记和端侧备案各自连续编号。",
)
ON_DEVICE = (
    "适用场景: the device an on-device service runs on, as published.",
    "适用场景：端侧服务运行的设备，按公布原文。",
)
MODEL_URL = ("The model's page in the register.", "该模型在本登记册中的页面地址。")
APPLICANT_URL = ("The applicant's page in the register.", "该申请单位在本登记册中的页面地址。")
BATCH_URL = ("The batch's page in the register.", "该批次在本登记册中的页面地址。")
SLUG = ("The record's identifier in the register's addresses.", "该记录在本登记册网址中的标识。")
KIND = (
    "private (company), state_owned, academic (university or institute) or other.",
    "private 民营企业、state_owned 国有企业、academic 高校或科研机构、other 其他。",
)
WEBSITE = ("The applicant's website.", "申请单位网站。")
FROM_STATUS = (
    "The status before this step; empty for the first step, which is how the record "
    "entered the register.",
    "此步骤之前的状态；第一步为空，即该记录进入登记册的方式。",
)
TO_STATUS = ("The status this step moved the submission to.", "此步骤之后的状态。")
HAPPENED_ON = ("The day the step happened.", "此步骤发生的日期。")
RECORDED_AT = (
    "When the step was written into the register (China Standard Time).",
    "此步骤录入登记册的时间（北京时间）。",
)
NOTE = ("A public note on the step, such as its source.", "此步骤的公开说明，例如出处。")

BATCH_FIELDS = {
    "slug": SLUG,
    "title_zh": ("The Chinese title of the notice's list.", "名单（公告附件）的中文标题。"),
    "title_en": ("Its English title.", "名单的英文标题。"),
    "announced_on": (
        "The day the notice was published; the first of the month when only the month is known.",
        "公告发布日期；只知道月份时为该月第一天。",
    ),
    "announced_precision": (
        "day, or month when only the month of the notice is known.",
        "day 表示日期确切；month 表示只知道公告月份。",
    ),
    "covers_until": (
        "The date the announced totals are as of.",
        "公告所报累计数字的截止日期。",
    ),
    "authority": ("The authority that published the notice.", "发布公告的机关。"),
    "source_url": ("The address of the notice.", "公告网址。"),
    "reported_new": ("New filings the notice announced.", "公告所报新增备案数。"),
    "reported_total": ("Cumulative filings the notice announced.", "公告所报累计备案数。"),
    "reported_registrations_new": (
        "New registrations the notice announced.",
        "公告所报新增登记数。",
    ),
    "reported_registrations_total": (
        "Cumulative registrations the notice announced.",
        "公告所报累计登记数。",
    ),
    "description": ("A public description of the batch.", "批次的公开说明。"),
}
BATCH_TYPES = {
    "announced_on": "date",
    "covers_until": "date",
    "reported_new": "integer",
    "reported_total": "integer",
    "reported_registrations_new": "integer",
    "reported_registrations_total": "integer",
}
BATCH_ENUMS = {"announced_precision": _values(DatePrecision)}


def _field(name, type_, texts, **kwargs):
    return Field(name, type_, *texts, **kwargs)


# The CSV files of the zip, each with a JSON Lines twin holding the same fields. -------------

MODELS = Table(
    "models",
    "Every model and service in the register, one row each: the columns of /models/export.csv.",
    "登记册中的全部模型与服务，每行一个：与 /models/export.csv 的列相同。",
    (
        _field("filing_number", "string", FILING_NUMBER),
        _field("name_zh", "string", MODEL_NAME_ZH),
        _field("name_en", "string", MODEL_NAME_EN),
        _field("applicant_zh", "string", APPLICANT_NAME_ZH),
        _field("applicant_en", "string", APPLICANT_NAME_EN),
        _field("jurisdiction", "string", JURISDICTION_CODE),
        _field("filing_type", "string", FILING_TYPE, enum=_values(FilingType)),
        _field("scope", "string", SCOPE, enum=_values(Scope)),
        _field("sector", "string", SECTOR),
        _status("status"),
        _field("submitted_on", "date", SUBMITTED_ON),
        _field("approved_on", "date", APPROVED_ON),
        _field(
            "batch",
            "string",
            (
                "The slug of the published batch that listed the model (batches.slug).",
                "公布该模型的批次标识（batches.slug）。",
            ),
        ),
        _field(
            "days_in_review",
            "integer",
            (
                "Days from submission to approval or, for a pending submission, to the day "
                "the files are as of; empty when the submission date is unknown.",
                "从提交到批准的天数；审核中的申请计至数据截至日期；提交日期未知时为空。",
            ),
        ),
        _field("url", "string", MODEL_URL),
        _field("approved_on_estimated", "boolean", ESTIMATED),
        _field("seq_no", "integer", SEQ_NO),
        _field(
            "upstream_filing_number",
            "string",
            (
                "For a registration: the filing number of the filed model it calls.",
                "登记应用所调用的已备案模型的备案号。",
            ),
        ),
        _field("on_device_scenario", "string", ON_DEVICE),
    ),
)

APPLICANTS = Table(
    "applicants",
    "Every applicant, with its number of models by status: the columns of /applicants/export.csv.",
    "全部申请单位及其各状态的模型数：与 /applicants/export.csv 的列相同。",
    (
        _field("name_zh", "string", APPLICANT_NAME_ZH),
        _field("name_en", "string", APPLICANT_NAME_EN),
        _field("jurisdiction", "string", JURISDICTION_CODE),
        _field("kind", "string", KIND, enum=_values(ApplicantKind)),
        _field("website", "string", WEBSITE),
        _field(
            "parent_zh",
            "string",
            ("The Chinese name of the group it belongs to.", "所属集团的中文名称。"),
        ),
        _field(
            "parent_en",
            "string",
            ("The English name of the group it belongs to.", "所属集团的英文名称。"),
        ),
        _field("models", "integer", ("Its models in the register.", "其在登记册中的模型数。")),
        *(
            _field(
                status.value,
                "integer",
                (
                    f"Its models with the status {status.value}.",
                    f"其状态为 {status.value} 的模型数。",
                ),
            )
            for status in Status
        ),
        _field("url", "string", APPLICANT_URL),
    ),
)

BATCHES = Table(
    "batches",
    "Every published list (a notice's attachment) and the totals its notice announced.",
    "全部公布名单（公告附件）及公告所报数字。",
    (
        *(
            _field(
                name,
                BATCH_TYPES.get(name, "string"),
                BATCH_FIELDS[name],
                enum=BATCH_ENUMS.get(name, ()),
            )
            for name in BATCH_HEADER[:-1]
        ),
        _field("url", "string", BATCH_URL),
    ),
)

HISTORY = Table(
    "history",
    "Every step of every model's review, as its page's timeline shows it.",
    "每个模型审核过程的每一步，与模型页面的时间线相同。",
    (
        _field(
            "model_url",
            "string",
            (
                "The page of the model the step belongs to (models.url).",
                "所属模型的页面（models.url）。",
            ),
        ),
        _field("filing_number", "string", FILING_NUMBER),
        _status("from_status", *FROM_STATUS),
        _status("to_status", *TO_STATUS),
        _field("happened_on", "date", HAPPENED_ON),
        _field("recorded_at", "datetime", RECORDED_AT),
        _field("note", "string", NOTE),
    ),
)

CSV_TABLES = (MODELS, APPLICANTS, BATCHES, HISTORY)
HEADERS = {
    "models": MODEL_HEADER,
    "applicants": APPLICANT_HEADER,
    "batches": BATCH_HEADER,
    "history": HISTORY_HEADER,
}
PRIMARY_KEYS = {"models": ["url"], "applicants": ["url"], "batches": ["slug"]}
FOREIGN_KEYS = {
    "models": [{"fields": ["batch"], "reference": {"resource": "batches", "fields": ["slug"]}}],
    "history": [{"fields": ["model_url"], "reference": {"resource": "models", "fields": ["url"]}}],
}


def datapackage(as_of, changed_at, stamp):
    """The zip's ``datapackage.json``, as a dict."""
    resources = []
    for table in CSV_TABLES:
        schema = {"fields": [field.schema() for field in table.fields], "missingValues": [""]}
        if table.name in PRIMARY_KEYS:
            schema["primaryKey"] = PRIMARY_KEYS[table.name]
        if table.name in FOREIGN_KEYS:
            schema["foreignKeys"] = FOREIGN_KEYS[table.name]
        resources.append(
            {
                "name": table.name,
                "path": f"{table.name}.csv",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8-sig",
                "description": table.en,
                "description_zh": table.zh,
                "schema": schema,
            }
        )
    return {
        "profile": "tabular-data-package",
        "name": PACKAGE_NAME,
        "title": TITLE_EN,
        "title_zh": TITLE_ZH,
        "description": (
            f"{SOURCE_EN} Each CSV file has a JSON Lines twin (models.jsonl, …) with the "
            "same fields, unknown values as null. Unknown values are empty cells; text "
            "that a spreadsheet would run as a formula starts with an apostrophe in the CSV "
            f"files. {TERMS_EN}"
        ),
        "description_zh": (
            f"{SOURCE_ZH}每个 CSV 文件另有字段相同的 JSON Lines 文件（models.jsonl 等），"
            "未知值为 null。CSV 中未知值为空单元格；电子表格会当作公式执行的文本前加撇号。"
            f"{TERMS_ZH}"
        ),
        "sources": [
            {"title": "Cyberspace Administration of China", "path": "https://www.cac.gov.cn/"}
        ],
        "created": changed_at.isoformat(),
        "as_of": as_of.isoformat(),
        "register_stamp": stamp,
        "resources": resources,
    }


# The SQLite file's tables. -----------------------------------------------------------------

ID = ("The record's id in the register.", "该记录在登记册中的编号。")


def _id():
    return _field("id", "integer", ID, sql="PRIMARY KEY")


SQLITE_TABLES = (
    Table(
        "jurisdictions",
        "Province-level regions, and 国资委 (SASAC) for central state-owned enterprises.",
        "省级行政区，以及中央企业所属的国资委。",
        (
            _id(),
            _field(
                "code",
                "string",
                ("A short code, e.g. BJ.", "简码，例如 BJ。"),
                sql="NOT NULL UNIQUE",
            ),
            _field("name_zh", "string", ("The Chinese name.", "中文名称。"), sql="NOT NULL"),
            _field("name_en", "string", ("The English name.", "英文名称。"), sql="NOT NULL"),
            _field(
                "filing_token",
                "string",
                (
                    "How filing numbers spell the region, e.g. Beijing or ZhongYangQiYe.",
                    "备案号中该地区的写法，例如 Beijing 或 ZhongYangQiYe。",
                ),
            ),
            _field("sort_order", "integer", ("The order of listings.", "列表中的顺序。")),
        ),
    ),
    Table(
        "applicants",
        "The companies and institutes that file or register (备案单位, 登记单位).",
        "提交备案或登记的企业与机构（备案单位、登记单位）。",
        (
            _id(),
            _field("slug", "string", SLUG, sql="NOT NULL UNIQUE"),
            _field("name_zh", "string", APPLICANT_NAME_ZH),
            _field("name_en", "string", APPLICANT_NAME_EN),
            _field(
                "jurisdiction_id",
                "integer",
                ("Its region (jurisdictions.id).", "所属地区（jurisdictions.id）。"),
                sql="REFERENCES jurisdictions (id)",
            ),
            _field("kind", "string", KIND, sql="NOT NULL", enum=_values(ApplicantKind)),
            _field("website", "string", WEBSITE),
            _field(
                "parent_id",
                "integer",
                ("The group it belongs to (applicants.id).", "所属集团（applicants.id）。"),
                sql="REFERENCES applicants (id)",
            ),
            _field("url", "string", APPLICANT_URL),
        ),
    ),
    Table(
        "batches",
        "The published lists (each notice's attachment) and the totals the notices announced.",
        "公布的名单（公告附件）及公告所报数字。",
        (
            _id(),
            *(
                _field(
                    name,
                    BATCH_TYPES.get(name, "string"),
                    BATCH_FIELDS[name],
                    sql="NOT NULL UNIQUE" if name == "slug" else "",
                    enum=BATCH_ENUMS.get(name, ()),
                )
                for name in BATCH_HEADER[:-1]
            ),
            _field("url", "string", BATCH_URL),
        ),
    ),
    Table(
        "models",
        "Every model and service submitted for filing or registration.",
        "提交备案或登记的全部模型与服务。",
        (
            _id(),
            _field("slug", "string", SLUG, sql="NOT NULL UNIQUE"),
            _field("name_zh", "string", MODEL_NAME_ZH),
            _field("name_en", "string", MODEL_NAME_EN),
            _field(
                "applicant_id",
                "integer",
                ("Who submitted it (applicants.id).", "申请单位（applicants.id）。"),
                sql="NOT NULL REFERENCES applicants (id)",
            ),
            _field("filing_type", "string", FILING_TYPE, sql="NOT NULL", enum=_values(FilingType)),
            _field("scope", "string", SCOPE, sql="NOT NULL", enum=_values(Scope)),
            _field("sector", "string", SECTOR),
            _field(
                "upstream_id",
                "integer",
                (
                    "For a registration: the filed model it calls (models.id).",
                    "登记应用所调用的已备案模型（models.id）。",
                ),
                sql="REFERENCES models (id)",
            ),
            _status("status", sql="NOT NULL"),
            _field("filing_number", "string", FILING_NUMBER),
            _field("submitted_on", "date", SUBMITTED_ON),
            _field("approved_on", "date", APPROVED_ON),
            _field("approved_on_estimated", "boolean", ESTIMATED),
            _field(
                "batch_id",
                "integer",
                (
                    "The published batch that listed it (batches.id).",
                    "公布该模型的批次（batches.id）。",
                ),
                sql="REFERENCES batches (id)",
            ),
            _field("seq_no", "integer", SEQ_NO),
            _field(
                "sequence",
                "string",
                (
                    "Which published numbering seq_no counts in: filing, registration or "
                    "on_device.",
                    "seq_no 所属的编号序列：filing 全国备案、registration 登记、"
                    "on_device 端侧备案。",
                ),
                sql="NOT NULL",
                enum=_values(Sequence),
            ),
            _field("on_device_scenario", "string", ON_DEVICE),
            _field(
                "aliases",
                "string",
                (
                    "Other names the model was reported under, one per line.",
                    "该模型曾用的其他报道名称，每行一个。",
                ),
            ),
            _field("description", "string", ("A public description.", "公开说明。")),
            _field("url", "string", MODEL_URL),
        ),
    ),
    Table(
        "history",
        "Every step of every model's review, in the order they were written.",
        "每个模型审核过程的每一步，按录入顺序。",
        (
            _id(),
            _field(
                "model_id",
                "integer",
                ("The model (models.id).", "所属模型（models.id）。"),
                sql="NOT NULL REFERENCES models (id)",
            ),
            _status("from_status", *FROM_STATUS),
            _status("to_status", *TO_STATUS, sql="NOT NULL"),
            _field("happened_on", "date", HAPPENED_ON, sql="NOT NULL"),
            _field("recorded_at", "datetime", RECORDED_AT, sql="NOT NULL"),
            _field("note", "string", NOTE),
        ),
    ),
    Table(
        "sources",
        "Reports other than the published lists that name models of the register, such as "
        "news of an approval round.",
        "公布名单以外提及登记册中模型的报道，例如某一批次批准的新闻。",
        (
            _id(),
            _field("title", "string", ("The report's title.", "报道标题。"), sql="NOT NULL"),
            _field("publisher", "string", ("Who published it.", "发布者。")),
            _field("url", "string", ("Its address.", "报道网址。")),
            _field("published_on", "date", ("When it was published.", "发布日期。")),
            _field("summary", "string", ("What it reported.", "报道内容摘要。")),
        ),
    ),
    Table(
        "model_sources",
        "Which sources name which models.",
        "各报道提及的模型。",
        (
            _field(
                "source_id",
                "integer",
                ("The source (sources.id).", "报道（sources.id）。"),
                sql="NOT NULL REFERENCES sources (id)",
            ),
            _field(
                "model_id",
                "integer",
                ("The model it names (models.id).", "报道提及的模型（models.id）。"),
                sql="NOT NULL REFERENCES models (id)",
            ),
        ),
    ),
)
# (table, columns) of the SQLite file's indexes, besides those of its keys and UNIQUE columns:
# every foreign key, and the columns a reader filters on.
SQLITE_INDEXES = (
    ("applicants", ("jurisdiction_id",)),
    ("applicants", ("parent_id",)),
    ("models", ("applicant_id",)),
    ("models", ("batch_id", "sequence", "seq_no")),
    ("models", ("upstream_id",)),
    ("models", ("status",)),
    ("models", ("filing_number",)),
    ("models", ("approved_on",)),
    ("history", ("model_id", "happened_on")),
    ("model_sources", ("model_id",)),
)
SQLITE_PRIMARY_KEYS = {"model_sources": ("source_id", "model_id")}
