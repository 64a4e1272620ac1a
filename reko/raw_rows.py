"""Model instances from rows of hand-written SQL, converted exactly as the ORM converts.

On the request path a user or a snapshot is read by primary or unique key once or twice
per request; compiling the ORM query (or a ``RawQuerySet``'s column mapping) costs more
than running it, so those reads are plain SQL turned into instances here.
"""
from functools import cache

from django.db import connections


@cache
def _converters(model, alias: str, vendor: str) -> tuple:
    """Per concrete field of ``model``: its attribute name, column and the ORM's converters."""
    connection = connections[alias]
    table = model._meta.db_table
    out = []
    for field in model._meta.concrete_fields:
        column = field.get_col(table)
        # The ORM's own order: the backend's converters, then the field's.
        converters = tuple(connection.ops.get_db_converters(column)
                           + column.get_db_converters(connection))
        out.append((field.attname, column, converters))
    return tuple(out)


def select_columns(model, alias: str = "default") -> str:
    """The column list of a ``SELECT`` that ``instance_from_row`` reads."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    return ", ".join(quote(column.target.column) for _, column, _ in
                     _converters(model, alias, connection.vendor))


def instance_from_row(model, row, alias: str = "default"):
    """The ``model`` instance of a row read with ``select_columns(model)``."""
    connection = connections[alias]
    fields = _converters(model, alias, connection.vendor)
    values = []
    for (_, column, converters), value in zip(fields, row):
        for converter in converters:
            value = converter(value, column, connection)
        values.append(value)
    return model.from_db(alias, [attname for attname, _, _ in fields], values)
