"""Quoted identifiers for the few raw statements (``RETURNING``, ``ON CONFLICT``) that
Django's ORM cannot express, and rows of such statements turned into model instances.
Values always go in as parameters."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import connection, models

M = TypeVar("M", bound=models.Model)

#: Per (database alias, model): the value converters of each concrete field.
_converters: dict[tuple[str, type[models.Model]], list[tuple[int, list[Callable], Any]]] = {}


def table_and_columns(model: type[models.Model]) -> tuple[str, dict[str, str]]:
    """The model's quoted table name and the quoted column of each concrete field."""
    quote = connection.ops.quote_name
    meta = model._meta
    columns = {field.name: quote(str(field.column)) for field in meta.concrete_fields}
    return quote(str(meta.db_table)), columns


def related_columns(model: type[models.Model], foreign_key: str) -> list[str]:
    """One scalar subquery per concrete column of the ``model`` row whose primary key is
    ``foreign_key`` (a qualified column): NULLs when there is none.

    Subqueries work in ``RETURNING`` on SQLite and PostgreSQL alike, where a join does
    not (SQLite's ``RETURNING`` cannot name the tables of ``UPDATE ... FROM``).
    """
    table, column = table_and_columns(model)
    primary_key = column[model._meta.pk.name]
    alias = connection.ops.quote_name("related_row")
    return [
        # Identifiers come from the model's metadata.
        f"(SELECT {alias}.{column[field.name]} FROM {table} {alias} "  # noqa: S608
        f"WHERE {alias}.{primary_key} = {foreign_key})"
        for field in model._meta.concrete_fields
    ]


def _field_converters(model: type[models.Model]) -> list[tuple[int, list[Callable], Any]]:
    key = (connection.alias, model)
    found = _converters.get(key)
    if found is None:
        found = []
        for index, field in enumerate(model._meta.concrete_fields):
            expression = field.get_col(model._meta.db_table)
            functions = connection.ops.get_db_converters(expression) + expression.get_db_converters(
                connection
            )
            if functions:
                found.append((index, functions, expression))
        _converters[key] = found
    return found


def instance_from_row(model: type[M], values: Sequence[Any]) -> M | None:
    """A ``model`` instance from the values of all its concrete columns, in field order,
    converted as the ORM would; ``None`` when the primary key is NULL (no row)."""
    meta = model._meta
    fields = meta.concrete_fields
    if values[fields.index(meta.pk)] is None:
        return None
    converted = list(values)
    for index, functions, expression in _field_converters(model):
        value = converted[index]
        for function in functions:
            value = function(value, expression, connection)
        converted[index] = value
    return model.from_db(connection.alias, [field.attname for field in fields], converted)
