"""Text rules shared by every writer: name normalisation and readable unique slugs."""

import functools
import itertools
import re
import unicodedata

from django.db.models import Q
from django.utils.text import slugify
from pypinyin import lazy_pinyin
from pypinyin.constants import RE_HANS
from pypinyin.seg.mmseg import seg as phrase_segmenter
from pypinyin.seg.simpleseg import seg as script_segmenter

_SPACES = re.compile(r"\s+")
# Characters of Chinese text: ideographs, CJK and full-width punctuation (not full-width
# letters and digits, which are Latin text), curly quotes and the middle dot of names like
# 天玄·开物. A line break inside a cell of a published list leaves white space between two
# of them, which no Chinese name holds.
_CHINESE_TEXT = (
    "\u00b7\u2018-\u201f\u3001-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\ufe30-\ufe4f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
    "\U00020000-\U0003134f"
)
_CHINESE_GAP = re.compile(rf"(?<=[{_CHINESE_TEXT}])\s+(?=[{_CHINESE_TEXT}])")
_HYPHEN_GAP = re.compile(r"\s*-\s*")
# The invisible format characters text copied from documents carries (normalise_name drops
# these and every other one).
_FORMAT_CHARACTERS = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


def normalise_name(value):
    """NFKC-fold a name and collapse white space (full-width spaces included).

    Published lists mix full-width and half-width forms and stray spaces; matching
    applicants on the normalised form keeps one company from being created twice.
    """
    if value is None:
        return ""
    value = unicodedata.normalize("NFKC", str(value))
    value = "".join(ch for ch in value if unicodedata.category(ch) not in ("Cc", "Cf"))
    return _SPACES.sub(" ", value).strip()


# The cleaning functions are pure and an import calls them many times on the same names
# (an applicant's on each of its rows): each keeps the results of its latest calls.
CACHE_SIZE = 65_536


@functools.lru_cache(maxsize=CACHE_SIZE, typed=True)
def clean_name(value):
    """A name as the register stores it: ``normalise_name`` without the white space that
    extraction leaves between two Chinese characters (北京百度网讯科技有限 公司).

    White space between Latin words is real (WPS AI, DeepSeek Chat) and stays. The gaps
    are removed before NFKC folds full-width brackets into ASCII ones, so a gap after a
    full-width bracket (科技（上海） 有限公司) is still seen as one.
    """
    if value is None:
        return ""
    # Invisible format characters (zero-width spaces) first: one beside a gap hides it.
    value = _FORMAT_CHARACTERS.sub("", str(value))
    return normalise_name(_CHINESE_GAP.sub("", value))


@functools.lru_cache(maxsize=CACHE_SIZE, typed=True)
def clean_number(value):
    """A filing or registration number as stored: ``clean_name`` without white space
    beside a hyphen (``Anhui-XingHuoRenZhiDaMoXing- 20230823``)."""
    return _HYPHEN_GAP.sub("-", clean_name(value))


@functools.lru_cache(maxsize=CACHE_SIZE, typed=True)
def match_key(value):
    """What two spellings of one name or number share: the cleaned text without any white
    space, case-folded. Bracket widths are already one after NFKC."""
    return clean_name(value).replace(" ", "").casefold()


@functools.lru_cache(maxsize=CACHE_SIZE, typed=True)
def _phrase_pinyin(phrase):
    return " ".join(lazy_pinyin(phrase))


@functools.lru_cache(maxsize=CACHE_SIZE, typed=True)
def pinyin(text):
    """``text`` with its Chinese written in toneless pinyin, as ``lazy_pinyin`` gives it.

    Names share most of their phrases (有限公司, 科技, 北京), so each phrase is converted
    once: a bulk import then spends little time here. The segmentation is pypinyin's own.
    """
    words = []
    for chunk in script_segmenter(text):
        if RE_HANS.match(chunk):
            words.extend(_phrase_pinyin(phrase) for phrase in phrase_segmenter.cut(chunk))
        else:
            words.append(chunk)
    return " ".join(words)


def pinyin_key(text):
    """The pinyin of ``text``'s Chinese as one lower-case word, for search (``pangu`` finds
    华为云盘古NLP大模型); empty when ``text`` holds no Chinese."""
    if not text or not has_chinese(text):
        return ""
    return pinyin(text).replace(" ", "").casefold()


def slug_base(*texts, max_length=80):
    """A readable ASCII slug from the first text that yields one; Chinese becomes pinyin."""
    for text in texts:
        if not text:
            continue
        slug = slugify(pinyin(normalise_name(text)))
        if slug:
            return slug[:max_length].strip("-")
    return ""


def numbered_slugs(base):
    """A filter for ``base`` and its numbered forms (``base-2``, …) that reads the slug index.

    A range rather than ``startswith``, which SQLite matches case-insensitively and so
    without the index; "." is the character after "-".
    """
    return Q(slug=base) | Q(slug__gt=f"{base}-", slug__lt=f"{base}.")


class Slugs:
    """Readable slugs, unique within ``queryset`` and among those this object made: a base
    (or the fallback) cut to fit ``max_length``, with a numeric suffix when it is taken.

    The slugs in use are looked up once for all of ``bases``, and again only for a base
    that is taken, so thousands of new rows cost a few queries. With no ``queryset`` (a
    data set being generated into empty tables), only the slugs made here count.
    """

    def __init__(self, queryset=None, bases=(), max_length=80):
        self.queryset = queryset
        self.max_length = max_length
        self.looked_up = set()
        self.taken = set()
        if queryset is not None:
            wanted = {self._cut(base) for base in bases if base}
            for chunk in itertools.batched(wanted, 2000):
                self.taken.update(queryset.filter(slug__in=chunk).values_list("slug", flat=True))

    def _cut(self, base):
        return base[: self.max_length - 6].strip("-")

    def make(self, base, fallback):
        wanted = self._cut(base) if base else ""
        base = self._cut(base or fallback) or fallback
        # A taken base, or a fallback the first look-up did not ask for, is looked up with
        # its numbered forms.
        asked = base == wanted and base not in self.taken
        if self.queryset is not None and not asked and base not in self.looked_up:
            self.looked_up.add(base)
            numbered = self.queryset.filter(numbered_slugs(base))
            self.taken.update(numbered.values_list("slug", flat=True))
        slug, n = base, 2
        while slug in self.taken:
            slug, n = f"{base}-{n}", n + 1
        self.taken.add(slug)
        return slug


def unique_slug(queryset, base, fallback, max_length=80):
    """``base`` (or ``fallback``) made unique within ``queryset`` with a numeric suffix."""
    return Slugs(queryset, [base or fallback], max_length).make(base, fallback)


def has_chinese(text):
    """Whether ``text`` holds a Chinese character."""
    return bool(_HAN.search(text))
