"""Quoted identifiers for the few raw statements (``RETURNING``, ``ON CONFLICT``) that
Django's ORM cannot express, the statements themselves built once per database, and
their rows turned into model instances. Values always go in as parameters."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection, models
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init

M = TypeVar("M", bound=models.Model)

#: Built statements, per (database alias, vendor, caller's key).
_statements: dict[tuple[str, str, Any], str] = {}


def table_and_columns(model: type[models.Model]) -> tuple[str, dict[str, str]]:
    """The model's quoted table name and the quoted column of each concrete field."""
    quote = connection.ops.quote_name
    meta = model._meta
    columns = {field.name: quote(str(field.column)) for field in meta.concrete_fields}
    return quote(str(meta.db_table)), columns


def statement(key: Any, build: Callable[[], str]) -> str:
    """The statement ``build()`` makes for the current database, built once per process:
    the hot paths do not pay for quoting identifiers on every event."""
    cache_key = (connection.alias, connection.vendor, key)
    found = _statements.get(cache_key)
    if found is None:
        found = _statements[cache_key] = build()
    return found


def counting_upsert(
    model: type[models.Model], keys: Sequence[str], counter: str, inserted: Sequence[str]
) -> str:
    """``INSERT`` a row of ``inserted`` fields (values as ``%s`` parameters, ``counter``
    as 1) or, when ``keys`` match a row, add 1 to its ``counter``; ``RETURNING`` the
    counter, so 1 means the row was made. The matched row stays locked until commit."""
    table, column = table_and_columns(model)
    count = column[counter]
    names = ", ".join([*(column[field] for field in inserted), count])
    values = ", ".join(["%s"] * len(inserted) + ["1"])
    return (
        # Identifiers come from the model's metadata; values are parameters.
        f"INSERT INTO {table} AS existing ({names}) VALUES ({values}) "  # noqa: S608
        f"ON CONFLICT ({', '.join(column[key] for key in keys)}) "
        f"DO UPDATE SET {count} = existing.{count} + 1 RETURNING {count}"
    )


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


@dataclass(frozen=True)
class _RowShape:
    attnames: list[str]
    pk_index: int
    #: (index, converters, expression) of the fields whose values need converting.
    converters: list[tuple[int, list[Callable[..., Any]], Any]]


_shapes: dict[tuple[str, type[models.Model]], _RowShape] = {}


def _shape(model: type[models.Model]) -> _RowShape:
    key = (connection.alias, model)
    found = _shapes.get(key)
    if found is None:
        fields = model._meta.concrete_fields
        converters = []
        for index, field in enumerate(fields):
            expression = field.get_col(model._meta.db_table)
            functions = connection.ops.get_db_converters(expression) + expression.get_db_converters(
                connection
            )
            if functions:
                converters.append((index, functions, expression))
        found = _shapes[key] = _RowShape(
            attnames=[field.attname for field in fields],
            pk_index=list(fields).index(model._meta.pk),
            converters=converters,
        )
    return found


def instance_from_row(model: type[M], values: Sequence[Any]) -> M | None:
    """A ``model`` instance from the values of all its concrete columns, in field order,
    converted as the ORM would; ``None`` when the primary key is NULL (no row)."""
    shape = _shape(model)
    if values[shape.pk_index] is None:
        return None
    converted = list(values)
    for index, functions, expression in shape.converters:
        value = converted[index]
        for function in functions:
            value = function(value, expression, connection)
        converted[index] = value
    if (
        model.__init__ is not models.Model.__init__
        or pre_init.has_listeners(model)
        or post_init.has_listeners(model)
    ):
        return model.from_db(connection.alias, shape.attnames, converted)
    # What from_db does, without Model.__init__'s per-field work (nothing overrides or
    # listens to it).
    instance = model.__new__(model)
    instance.__dict__.update(zip(shape.attnames, converted, strict=True))
    instance._state = ModelState()
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance
