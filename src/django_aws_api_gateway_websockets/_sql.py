"""Quoted identifiers for the few raw statements (``RETURNING``, ``ON CONFLICT``) that
Django's ORM cannot express; values always go in as parameters."""

from __future__ import annotations

from django.db import connection, models


def table_and_columns(model: type[models.Model]) -> tuple[str, dict[str, str]]:
    """The model's quoted table name and the quoted column of each concrete field."""
    quote = connection.ops.quote_name
    meta = model._meta
    columns = {field.name: quote(str(field.column)) for field in meta.concrete_fields}
    return quote(str(meta.db_table)), columns
