"""Inserting thousands of rows at once, for the importer and the benchmark's data."""

from django.db import connection

CHUNK_SIZE = 2000


def _db_value(field, value):
    # Plain text and numbers go to the driver as they are; dates, times and choices
    # are prepared by their field, for the database in use.
    if value is None or type(value) in (str, int):
        return value
    return field.get_db_prep_save(value, connection)


def insert_rows(model, columns, rows):
    """Insert ``rows`` (tuples of values in database form, one per column) with one
    ``executemany``.

    ``bulk_create`` spends seconds assembling the SQL of 10,000 rows; one prepared
    statement leaves the rest to the database driver.
    """
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(model._meta.db_table),
        ", ".join(quote(column) for column in columns),
        ", ".join(["%s"] * len(columns)),
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


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
    for start in range(0, len(slugs), CHUNK_SIZE):
        chunk = slugs[start : start + CHUNK_SIZE]
        ids.update(model.objects.filter(slug__in=chunk).values_list("slug", "pk"))
    return ids
