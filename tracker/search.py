"""All the database-specific search of /models/: a search word is looked up in the index
of the database in use (migration 0002 builds them), and LIKE is the fallback.

- SQLite: words of two characters or more in the trigram full-text index over each model's
  search text and filing number, which matches substrings ignoring case as LIKE does:
  longer words by their trigrams, two-character ones as the start of a trigram (a range of
  the index's vocabulary). A single character, which starts too many trigrams to be worth
  it, is matched with LIKE.
- PostgreSQL: LIKE, which the pg_trgm indexes serve from three characters on; two-character
  words through the bigram index.

The filters call ``search_condition``; the listing asks ``search_index_count`` for a count
and ``looks_up_in_index`` whether a search can be read in the listing's order.
"""

import functools
import operator
import unicodedata

from django.db import connection
from django.db.models import BooleanField, F, Func, Q, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

MAX_SEARCH_TERMS = 10
TRIGRAM = 3
SQLITE_SEARCH_SQL = "SELECT rowid FROM tracker_aimodel_search WHERE tracker_aimodel_search MATCH %s"
# The models holding a word of two characters: the trigrams starting with it, a range of
# the index's vocabulary (migration 0002). The word is lower-cased as the index folds it,
# which holds for ASCII and for characters without case (see _folds_as_indexed).
SQLITE_SHORT_TERM_SQL = (
    "SELECT doc FROM tracker_aimodel_search_terms WHERE term >= %s AND term < %s"
)
LAST_CHARACTER = chr(0x10FFFF)


def search_condition(query, in_index_order=False):
    """Every word must match one of the names (model or applicant) or the filing number.

    ``search_text`` holds the four names, so no join is needed. On SQLite words of two
    characters or more are looked up in the trigram index of migration 0002,
    which matches substrings ignoring case as LIKE does: longer words by their trigrams,
    two-character ones as the start of a trigram. A single character, which starts too
    many trigrams to be worth it, is matched with LIKE. On PostgreSQL words are matched
    with LIKE, which trigram indexes serve from three characters on (migration 0002);
    two-character words are looked up in a bigram index (migration 0002).

    With ``in_index_order``, SQLite reads the models along the index of the listing's
    order and checks each against the index's matches, stopping at the end of the page,
    instead of sorting every match: faster when matches are many, slower when few.
    """
    terms = query.split()[:MAX_SEARCH_TERMS]
    indexed = _indexed_terms(query)
    conditions = [_unindexed_condition(term) for term in terms if term not in indexed]
    conditions += [
        _in_search_index(sql, params, in_index_order) for sql, params in _lookups(indexed)
    ]
    return functools.reduce(operator.and_, conditions, Q())


def _lookups(terms):
    """(sql, params) of subqueries of the search index, each giving the ids of the models
    holding some of ``terms``; a model holds them all when every subquery gives its id."""
    lookups = [
        (SQLITE_SHORT_TERM_SQL, [term.lower(), term.lower() + LAST_CHARACTER])
        for term in terms
        if len(term) < TRIGRAM
    ]
    long_terms = [term for term in terms if len(term) >= TRIGRAM]
    if long_terms:
        match = " AND ".join('"{}"'.format(term.replace('"', '""')) for term in long_terms)
        lookups.append((SQLITE_SEARCH_SQL, [match]))
    return lookups


def search_index_count(query, limit):
    """How many models match ``query``, counting no further than ``limit``, from the search
    index alone; None when a word of it is not looked up there.

    Every model has one entry in the index (migration 0002's triggers), so the index's
    count is the models' count without a read of the models' table.
    """
    indexed = _indexed_terms(query)
    if not indexed or len(indexed) < len(query.split()[:MAX_SEARCH_TERMS]):
        return None
    lookups = _lookups(indexed)
    # A word of two characters gives a model once per occurrence; INTERSECT and DISTINCT
    # give it once.
    sql = " INTERSECT ".join(f"SELECT * FROM ({sql})" for sql, _ in lookups)
    if len(lookups) == 1:
        sql = f"SELECT DISTINCT * FROM ({lookups[0][0]})"
    params = [param for _, lookup_params in lookups for param in lookup_params]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({sql} LIMIT %s)", [*params, limit])
        return cursor.fetchone()[0]


def _unindexed_condition(term):
    """A word not looked up in SQLite's search index: on PostgreSQL a two-character one is
    looked up in its bigram index, any other is matched with LIKE."""
    if connection.vendor == "postgresql" and len(term) == 2:
        return Q(HoldsBigram(F("search_text"), Cast("filing_number", TextField()), Value(term)))
    return Q(search_text__icontains=term) | Q(filing_number__icontains=term)


class HoldsBigram(Func):
    """PostgreSQL: whether a model's searched text (search text, filing number) holds a
    two-character word, ignoring case; written as the expression of the bigram index of
    migration 0002, which the planner needs to use it."""

    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra_context):
        (text, text_params), (number, number_params), (word, word_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        sql = f"tracker_bigrams(UPPER({text} || chr(31) || {number})) @> ARRAY[UPPER({word})]"
        return sql, (*text_params, *number_params, *word_params)


class InSearchMatches(Func):
    """SQLite: whether a model's primary key is among a search index subquery's, read so
    that the planner keeps to the listing's order index: a unary + keeps it from looking
    the matches up by primary key instead."""

    output_field = BooleanField()

    def __init__(self, sql, params):
        super().__init__(F("pk"))
        self.sql, self.params = sql, params

    def as_sql(self, compiler, connection, **extra_context):
        pk, pk_params = compiler.compile(self.get_source_expressions()[0])
        return f"+{pk} IN ({self.sql})", (*pk_params, *self.params)


def _in_search_index(sql, params, in_index_order):
    if in_index_order:
        return Q(InSearchMatches(sql, params))
    return Q(pk__in=RawSQL(sql, params))


def _indexed_terms(query):
    """The words of ``query`` looked up in the search index (SQLite only)."""
    if connection.vendor != "sqlite":
        return []
    return [
        term
        for term in query.split()[:MAX_SEARCH_TERMS]
        if len(term) >= TRIGRAM or (len(term) == 2 and _folds_as_indexed(term))
    ]


def _folds_as_indexed(word):
    """Whether the search index folds ``word`` as str.lower() does: ASCII and characters
    without case do; other cased letters (ς, İ, …) fold otherwise there, and unassigned
    code points are not all kept, so such words are matched with LIKE."""
    return all(
        character.isascii()
        or (
            character.lower() == character == character.upper()
            and unicodedata.category(character) != "Cn"
        )
        for character in word
    )


def looks_up_in_index(query):
    """Whether some word of ``query`` is looked up in the search index (SQLite)."""
    return bool(_indexed_terms(query))
