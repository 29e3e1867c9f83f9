"""Inserting thousands of rows at once, for the importer and the benchmark's data."""

import itertools

from django.db import connection

# Rows per statement, values per IN list, rows per fetch: well under the bound-parameter
# limits of SQLite and PostgreSQL, and few round trips.
CHUNK_SIZE = 2000


def _db_value(field, value):
    # Plain text and numbers go to the driver as they are; dates, times and choices
    # are prepared by their field, for the database in use.
    if value is None or type(value) in (str, int):
        return value
    return field.get_db_prep_save(value, connection)


def insert_rows(model, columns, rows):
    """Insert ``rows`` (tuples of values in database form, one per column): on PostgreSQL
    with COPY, elsewhere with a few INSERT statements of many rows each.

    ``bulk_create`` spends seconds assembling the SQL of 10,000 rows, and a statement per
    row (``executemany``) costs SQLite's full-text index a flush of its pending terms after
    every row, which made it the larger part of an import. COPY sends the rows as they
    are, where psycopg would parse the placeholders of every long INSERT.
    """
    quote = connection.ops.quote_name
    table = "{} ({})".format(
        quote(model._meta.db_table), ", ".join(quote(column) for column in columns)
    )
    if connection.vendor == "postgresql":
        # Refusals raise Django's errors (IntegrityError…), as a query's would.
        with (
            connection.wrap_database_errors,
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    head = f"INSERT INTO {table} VALUES "
    values = "({})".format(", ".join(["%s"] * len(columns)))
    max_params = connection.features.max_query_params or CHUNK_SIZE * len(columns)
    per_statement = max(1, min(CHUNK_SIZE, max_params // len(columns)))
    with connection.cursor() as cursor:
        for chunk in itertools.batched(rows, per_statement):
            cursor.execute(
                head + ", ".join([values] * len(chunk)), [value for row in chunk for value in row]
            )


def insert_many(model, objs):
    """Insert unsaved ``objs``; return {slug: pk} when they have slugs.

    Each value is prepared as ``bulk_create`` would prepare it.
    """
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    objs = list(objs)
    insert_rows(
        model,
        [field.column for field in fields],
        [[_db_value(field, field.pre_save(obj, True)) for field in fields] for obj in objs],
    )
    slugs = [getattr(obj, "slug", None) for obj in objs]
    if not any(slugs):
        return {}
    ids = {}
    for chunk in itertools.batched(slugs, CHUNK_SIZE):
        ids.update(model.objects.filter(slug__in=chunk).values_list("slug", "pk"))
    return ids
