"""Finding runs: ``--where`` expressions and ``--sort`` keys, compiled to SQL.

An expression reads like Python (``params.units >= 16 and best.val_accuracy > 0.5``,
``status == "finished"``, ``"baseline" in tags``); it is parsed with Python's own
parser and compiled to one SQL condition with bound values, so the store filters and
sorts its runs without loading any of them. The fields:

- ``name``, ``status``, ``group``, ``kind`` (of group), ``backend``, ``seed``, ``note``,
  ``epochs``, ``started`` and ``ended`` (compared with dates, ``"2026-12-01"``, or
  times, ``"2026-12-01 14:00"``), ``split`` (the split's index hash);
- ``params.KEY``: a recorded parameter (``params.model[0].Dense.units``,
  ``params.compile.optimizer.sgd.learning_rate``), as the run's params name it;
- ``best.METRIC``: the best value a metric reached over the epochs (the lowest for a
  loss or an error, the highest for anything else), ``final.METRIC``: its last epoch's;
- ``tags``: with ``in`` / ``not in``.
"""

from __future__ import annotations

import ast
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .._errors import ArgumentError, argument_error
from ._schema import SCHEMA_VERSION as SCHEMA

__all__ = ["FIELDS", "Query", "compile_sort", "compile_where", "field_sql", "lower_is_better"]

# Field -> SQL over the runs table (aliased r).
_COLUMNS = {
    "run_id": "r.run_id", "name": "r.name", "status": "r.status", "reason": "r.reason", "group": "r.group_id",
    "kind": "r.group_kind", "backend": "r.backend", "seed": "r.seed", "note": "r.note",
    "started": "r.started_at", "ended": "r.ended_at", "split": "json_extract(r.manifest, '$.index_hash')",
    "epochs": "(SELECT COUNT(*) FROM epochs e WHERE e.run_id = r.run_id)",
}  # fmt: skip
_PREFIXES = ("params", "best", "final")
FIELDS = (*_COLUMNS, "tags", *(f"{prefix}.KEY" for prefix in _PREFIXES))
_DATES = ("started", "ended")
_OPERATORS = {ast.Eq: "=", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


@dataclass(frozen=True)
class Query:
    """A compiled condition or ordering: SQL text with ``?`` placeholders, and their values in order."""

    sql: str
    values: tuple[Any, ...] = ()


def lower_is_better(metric: str) -> bool:
    """Whether a metric's best value is its lowest (losses and errors)."""
    return any(word in metric for word in ("loss", "error", "mae", "mse"))


def field_sql(name: str, *, schema: int = SCHEMA, option: str = "where", expression: str = "", at: int = 0) -> Query:
    """The SQL of one field (see the module's list) in a store of ``schema``.

    Raises:
        ArgumentError: not a field, pointing at ``at`` in ``expression``.
    """
    if name == "note" and schema < 6:  # (a store read as it is, older than notes)
        return Query("NULL")
    if name == "kind" and schema < 3:
        return Query("NULL")
    if name in _COLUMNS:
        return Query(_COLUMNS[name])
    prefix, dot, key = name.partition(".")
    if dot and key and prefix == "params":
        return Query("json_extract(r.params, ?)", (_json_path(key),))
    if dot and key and prefix in ("best", "final"):
        if prefix == "final":
            return Query("(SELECT m.value FROM metrics m WHERE m.run_id = r.run_id AND m.name = ? "
                         "ORDER BY m.epoch DESC LIMIT 1)", (key,))  # fmt: skip
        pick = "MIN" if lower_is_better(key) else "MAX"
        return Query(f"(SELECT {pick}(m.value) FROM metrics m WHERE m.run_id = r.run_id AND m.name = ?)", (key,))
    raise _error(option, expression, at, f"unknown field {name!r}. Fields: {', '.join(FIELDS)}")


def _json_path(key: str) -> str:
    """SQLite's JSON path of a top-level key that may hold dots and brackets (``model[0].Dense.units``)."""
    return '$."' + key.replace('"', '\\"') + '"'


def compile_where(expression: str, *, schema: int = SCHEMA) -> Query:
    """The SQL condition of a ``--where`` expression.

    Raises:
        ArgumentError: a syntax error, an unknown field or an unsupported construct, with its position.
    """
    text = expression.strip()
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        if not exc.offset:  # (Python says nothing more precise when the text stops too soon)
            raise _error("where", text, len(text), "the expression ends too soon") from None
        hint = "; compare with ==" if "=" in text and "==" not in text else ""
        raise _error("where", text, exc.offset - 1, f"{exc.msg}{hint}") from None
    return _Compiler(text, schema).node(tree.body)


def compile_sort(keys: str | Sequence[str], *, schema: int = SCHEMA) -> Query:
    """``ORDER BY`` terms for sort keys (``-best.val_accuracy,name``: ``-`` sorts descending; no value sorts last)."""
    text = keys if isinstance(keys, str) else ",".join(keys)
    terms, values = [], []
    for position, raw in _split_keys(text):
        key = raw.strip()
        descending = key.startswith("-")
        name = key.lstrip("-+").strip()
        if not name:
            raise _error("sort", text, position, "empty sort key")
        if name == "tags":
            raise _error("sort", text, position, "runs are not sorted by tags; filter by them with <<where>>")
        found = field_sql(name, schema=schema, option="sort", expression=text, at=position)
        terms.append(f"({found.sql}) IS NULL, ({found.sql}) {'DESC' if descending else 'ASC'}")
        values += [*found.values, *found.values]
    return Query(", ".join(terms), tuple(values))


def _split_keys(text: str) -> list[tuple[int, str]]:
    found, start = [], 0
    for part in text.split(","):
        found.append((start, part))
        start += len(part) + 1
    return found


class _Compiler:
    def __init__(self, expression: str, schema: int) -> None:
        self.expression = expression
        self.schema = schema

    def fail(self, node: ast.AST, why: str) -> ArgumentError:
        return _error("where", self.expression, getattr(node, "col_offset", 0), why)

    def node(self, node: ast.AST) -> Query:
        if isinstance(node, ast.BoolOp):
            parts = [self.node(value) for value in node.values]
            joiner = " AND " if isinstance(node.op, ast.And) else " OR "
            return Query("(" + joiner.join(part.sql for part in parts) + ")", sum((p.values for p in parts), ()))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.node(node.operand)
            return Query(f"(NOT {inner.sql})", inner.values)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        raise self.fail(node, "expected a comparison (field == value, field > value, 'tag' in tags, ...) joined "
                              "by and, or, not")  # fmt: skip

    def compare(self, node: ast.Compare) -> Query:
        parts: list[Query] = []
        left = node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            parts.append(self.one(left, op, right))
            left = right
        return parts[0] if len(parts) == 1 else Query("(" + " AND ".join(p.sql for p in parts) + ")",
                                                      sum((p.values for p in parts), ()))  # fmt: skip

    def one(self, left: ast.AST, op: ast.cmpop, right: ast.AST) -> Query:
        if isinstance(op, (ast.In, ast.NotIn)):
            negate = "NOT " if isinstance(op, ast.NotIn) else ""
            if self.name_of(right) == "tags":
                value = self.value(left, None)
                if self.schema < 6:  # (a store read as it is, older than tags: no run has any)
                    return Query("(1 = 1)" if negate else "(1 = 0)")
                return Query(f"({negate}EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.run_id AND t.tag = ?))",
                             (value,))  # fmt: skip
            name = self.field_name(left)
            if not isinstance(right, (ast.List, ast.Tuple)):
                raise self.fail(right, "`in` takes a list of values ([1, 2]) or tags")
            field = field_sql(name, schema=self.schema, expression=self.expression, at=getattr(left, "col_offset", 0))
            values = [self.value(item, name) for item in right.elts]
            holes = ", ".join("?" * len(values))
            return Query(f"({field.sql}) {negate}IN ({holes})", (*field.values, *values))
        if type(op) not in _OPERATORS:
            raise self.fail(left, "unsupported comparison; use ==, !=, <, <=, >, >=, in, not in")
        if self.name_of(left) is None and self.name_of(right) is not None:  # 0.5 < best.val_accuracy
            left, right, op = right, left, _MIRRORED[type(op)]()
        name = self.field_name(left)
        if name == "tags":
            raise self.fail(left, "tags are tested with `in`: 'baseline' in tags")
        field = field_sql(name, schema=self.schema, expression=self.expression, at=getattr(left, "col_offset", 0))
        value = self.value(right, name)
        if value is None:
            test = "IS" if isinstance(op, ast.Eq) else "IS NOT" if isinstance(op, ast.NotEq) else None
            if test is None:
                raise self.fail(right, "None is compared with == or != only")
            return Query(f"({field.sql}) {test} NULL", field.values)
        return Query(f"({field.sql}) {_OPERATORS[type(op)]} ?", (*field.values, value))

    def name_of(self, node: ast.AST) -> str | None:
        """The field a node names (``params.model[0].Dense.units``), or ``None`` for a literal."""
        if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)):
            return ast.get_source_segment(self.expression, node)
        return None

    def field_name(self, node: ast.AST) -> str:
        name = self.name_of(node)
        if name is None:
            raise self.fail(node, "expected a field on one side of the comparison")
        return name.replace(" ", "")

    def value(self, node: ast.AST, field: str | None) -> Any:
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
            inner = node.operand.value
            if isinstance(inner, (int, float)) and not isinstance(inner, bool):
                return -inner
        if not isinstance(node, ast.Constant) or not isinstance(node.value, (str, int, float, bool, type(None))):
            raise self.fail(node, "expected a value: a number, a quoted string, true/false or None")
        value = node.value
        if field in _DATES and isinstance(value, str):
            return _timestamp(value, self, node)
        return value


_MIRRORED = {ast.Lt: ast.Gt, ast.LtE: ast.GtE, ast.Gt: ast.Lt, ast.GtE: ast.LtE, ast.Eq: ast.Eq, ast.NotEq: ast.NotEq}


def _timestamp(text: str, compiler: _Compiler, node: ast.AST) -> float:
    for form in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return time.mktime(time.strptime(text, form))
        except ValueError:
            continue
    raise compiler.fail(node, f"{text!r} is not a date: write 2026-12-01 or 2026-12-01 14:00")


def _error(option: str, expression: str, at: int, why: str) -> ArgumentError:
    """One error naming the option and the position, the expression shown with a caret under it."""
    pointer = " " * max(0, at) + "^"
    return argument_error(f"<<{option}>> at position {at + 1}: {why}.\n  {expression}\n  {pointer}")
