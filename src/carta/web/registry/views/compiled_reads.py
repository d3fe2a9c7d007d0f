"""Querysets whose SQL is compiled once per process (ADR 0289, ADR 0292): one patient's
records for the patient page, and (through :class:`RowBuilder`) the patient list's page.

The patient page reads a dozen small querysets on a first view. Compiling each (resolving the
lookups, the joins of ``select_related`` and ``order_by``, quoting every column) cost Django
more CPU than PostgreSQL needs to run it and Django to build the model instances. A
:class:`PatientRecords` compiles its queryset once per database with a stand-in key, and then
runs that SQL with each patient's key and builds the rows exactly as ``QuerySet`` iteration
does: the same converters, ``Model.from_db`` with the same field list and Django's own
populators for ``select_related`` objects. It is still one query, counted and logged like any
other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

RecordT = TypeVar("RecordT", bound=Model)
KEY_STAND_IN = 987_654_321  # the patient key while the SQL is compiled: no patient has it


@dataclass(frozen=True, slots=True)
class RowBuilder:
    """How ``QuerySet`` iteration makes model instances of a compiled query's rows: each
    column's database converters, ``Model.from_db`` with the query's field list, Django's own
    populators for ``select_related`` objects, then the annotations."""

    model: type[Model]
    model_fields: slice
    init_list: list[str]
    converters: list[tuple[int, tuple[list[Callable[..., Any]], Any]]]
    related_populators: list[Any]
    annotations: list[tuple[str, int]]

    @classmethod
    def of(cls, compiler: Any, alias: str) -> RowBuilder:
        """The builder of a compiler whose ``as_sql()`` has run (it sets the select list)."""
        select, klass_info = compiler.select, compiler.klass_info
        assert klass_info is not None and select is not None  # set by as_sql()
        first, last = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        converters = compiler.get_converters([column[0] for column in select[: compiler.col_count]])
        return cls(
            model=compiler.query.model,
            model_fields=slice(first, last),
            init_list=[column[0].target.attname for column in select[first:last]],
            converters=list(converters.items()),
            related_populators=get_related_populators(klass_info, select, alias),
            annotations=list(compiler.annotation_col_map.items()),
        )

    def build(self, rows: Iterable[Any], alias: str, connection: Any) -> list[Any]:
        """One instance per row, as the queryset would have made it."""
        records = []
        for row in map(list, rows):
            for position, (functions, expression) in self.converters:
                value = row[position]
                for function in functions:
                    value = function(value, expression, connection)
                row[position] = value
            record = self.model.from_db(alias, self.init_list, row[self.model_fields])
            for populator in self.related_populators:
                populator.populate(row, record)
            for name, position in self.annotations:
                setattr(record, name, row[position])
            records.append(record)
        return records


@dataclass(frozen=True, slots=True)
class _Plan:
    """A compiled read: its SQL (the key its only parameter) and how to build each row."""

    sql: str
    rows: RowBuilder


class PatientRecords(Generic[RecordT]):
    """``queryset.filter(patient_id=key)`` for any patient, compiled once per database."""

    def __init__(self, queryset: QuerySet[RecordT], key_field: str = "patient_id") -> None:
        if queryset.query.annotations or queryset.query.extra or queryset._prefetch_related_lookups:
            raise ValueError("only plain querysets (fields and select_related) are compiled")
        self.queryset = queryset
        self.key_field = key_field
        self._plans: dict[tuple[str, str], _Plan] = {}  # by database alias and vendor

    def _compile(self, alias: str) -> _Plan:
        query = self.queryset.filter(**{self.key_field: KEY_STAND_IN}).query
        compiler = query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        if tuple(params) != (KEY_STAND_IN,):
            raise ValueError(f"a compiled read takes the key alone, not {params!r}")
        plan = _Plan(sql=str(sql), rows=RowBuilder.of(compiler, alias))
        self._plans[alias, compiler.connection.vendor] = plan
        return plan

    def __call__(self, key: int) -> list[RecordT]:
        """The records of the patient with primary key ``key``, in the queryset's order."""
        alias = router.db_for_read(self.queryset.model)
        connection = connections[alias]
        plan = self._plans.get((alias, connection.vendor)) or self._compile(alias)
        with connection.cursor() as cursor:
            cursor.execute(plan.sql, [int(key)])
            rows = cursor.fetchall()
        return plan.rows.build(rows, alias, connection)
