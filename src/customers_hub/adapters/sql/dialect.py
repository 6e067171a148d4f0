"""SQL constructs compiled per dialect, for PostgreSQL and SQLite alike.

:class:`Explain` is PostgreSQL's ``EXPLAIN (FORMAT JSON)`` of a statement (the planner's row
estimate of a count above the cap); :class:`Epoch` the seconds since 1970 of a UTC timestamp
(``EXTRACT(EPOCH …)`` on PostgreSQL, ``julianday`` on SQLite), which durations are computed
from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Float, Integer, Select, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal, _TraverseInternalsType

__all__ = [
    "Epoch",
    "Explain",
    "compile_by_dialect",
    "hours_between",
    "literal_rows",
]


def literal_rows(count: int) -> BindParameter[int]:
    """A ``LIMIT`` or ``OFFSET`` as a literal in the SQL sent (the compiled form is still
    cached: SQLAlchemy renders it per execution). psycopg prepares a statement on its sixth
    run and PostgreSQL then may switch to a generic plan, which cannot see a bound ``LIMIT``:
    it plans for a tenth of the rows. At the million that chose a parallel plan (two workers
    started, a Gather Merge) for a 21-row page of the actions inbox: 7.6–10.5 ms against
    0.3–0.5 ms with the limit in the text (``docs/storage.md``). With literals, a generic plan
    knows how many rows it is for."""
    return bindparam(None, count, type_=Integer(), literal_execute=True)


class Explain(Executable, ClauseElement):
    """``EXPLAIN (FORMAT JSON) <statement>`` (PostgreSQL), with the statement's parameters bound."""

    # Cached like any statement, by the explained statement's cache key (its parameters are
    # extracted per execution): compiling it anew cost every list above the count's cap.
    inherit_cache = True
    _traverse_internals: _TraverseInternalsType = [  # noqa: RUF012 - SQLAlchemy's declaration
        ("statement", InternalTraversal.dp_clauseelement)
    ]

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement

    @property
    def _all_selected_columns(self) -> tuple[()]:
        # What a result from the compiled cache is matched against: no column objects (the
        # plan is the one textual column, read by position).
        return ()


@compiles(Explain, "postgresql")
def _compile_explain(element: Explain, compiler: SQLCompiler, **kw: Any) -> str:
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.statement, **kw)


class Epoch(FunctionElement[float]):
    """Seconds since 1970 of a UTC timestamp column, on either database."""

    type = Float()
    name = "epoch"
    inherit_cache = True


def _around(template: str) -> Callable[..., str]:
    def compile_element(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
        return template.format(compiler.process(element.clauses, **kw))

    return compile_element


def compile_by_dialect(element: type[FunctionElement[Any]], **templates: str) -> None:
    """Compile ``element(argument)`` on each dialect named in ``templates`` as its template,
    with ``{}`` replaced by the compiled argument."""
    for dialect, template in templates.items():
        compiles(element, dialect)(_around(template))


compile_by_dialect(
    Epoch,
    postgresql="EXTRACT(EPOCH FROM {})",
    # SQLAlchemy stores SQLite timestamps as ISO text in UTC; julianday() reads it.
    sqlite="((julianday({}) - 2440587.5) * 86400.0)",
)


def hours_between(start: Any, end: Any) -> ColumnElement[float]:
    return (Epoch(end) - Epoch(start)) / 3600.0
