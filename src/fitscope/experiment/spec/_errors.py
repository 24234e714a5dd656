"""Pydantic's validation errors of a spec, worded for its user: one line per mistake, with what to write instead.

An unknown key gets the nearest valid one (or the section it belongs in), and a value
that fits none of a key's accepted types gets one line listing them, not one per type.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from pydantic import BaseModel

__all__ = ["describe_errors", "fields_at"]


def describe_errors(errors: list[dict[str, Any]], root: type[BaseModel], *, most: int = 5) -> str:
    """The first ``most`` problems of a validation of ``root`` (the spec model), ``; ``-separated."""
    return "; ".join(_describe(root, error) for error in _merge_union_members(errors)[:most])


def fields_at(root: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys the section holding ``loc``'s last part takes (``fit.epoch`` -> epochs, batch_size, shuffle)."""
    model: Any = root
    for part in loc[:-1]:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        model = field.annotation
    return list(getattr(model, "model_fields", {}))


def _homes_of(root: type[BaseModel], name: str) -> list[str]:
    """Where the spec takes a key of this name (``seed``; ``split.shuffle``, ``fit.shuffle``), for one put elsewhere."""
    homes = [name] if name in root.model_fields else []
    for section, field in root.model_fields.items():
        if name in getattr(field.annotation, "model_fields", {}):
            homes.append(f"{section}.{name}")
    return homes


def _describe(root: type[BaseModel], error: dict[str, Any]) -> str:
    loc = tuple(error["loc"])
    path = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in loc).replace(".[", "[")
    if error["type"] == "extra_forbidden":
        close = difflib.get_close_matches(str(loc[-1]), fields_at(root, loc), n=1)
        homes = _homes_of(root, str(loc[-1]))
        if close:
            hint = f"; did you mean `{'.'.join(map(str, (*loc[:-1], close[0])))}`?"
        elif homes == [str(loc[-1])]:
            hint = f" (`{homes[0]}` is a top-level key)"
        elif homes:
            hint = f" (it belongs in {' or '.join(f'`{home}`' for home in homes)})"
        else:
            hint = ""
        return f"unknown key `{path}`{hint}"
    if error["type"] == "missing":
        return f"missing key `{path}`"
    message = str(error["msg"]).removeprefix("Value error, ")  # (a validator's own words)
    return f"`{path}`: {message} (got {error.get('input')!r})"


# The names pydantic gives a union's members in an error's location: `split.test` fails as
# ("split", "test", "int"), ("split", "test", "float") and ("split", "test", "literal['provided']").
_UNION_MEMBER = re.compile(r"^((constrained-)?(int|float)|bool|str|none|(literal|dict|list|tuple|nullable)\[.*\])$")
_MEMBER_WORDS = {
    "int": ["an integer"], "float": ["a number"], "bool": ["true", "false"], "str": ["a text"], "none": ["null"],
    "dict": ["a mapping"], "list": ["a list"], "tuple": ["a list"], "nullable": ["null"],
}  # fmt: skip


def _member_words(tag: str) -> list[str]:
    if tag.startswith("literal["):
        return tag.removeprefix("literal[").removesuffix("]").split(",")
    return _MEMBER_WORDS[tag.removeprefix("constrained-").partition("[")[0]]


def _wrong_type(error: dict[str, Any]) -> bool:
    """The value is not of the member's type at all (rather than of it, and out of its range)."""
    return str(error["type"]).endswith(("_type", "_parsing")) or error["type"] == "literal_error"


def _merge_union_members(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One error per value that fits no member of a union, not one per member.

    When the value had a member's outer type (a list for ``model``) and failed inside
    it, that member's own errors are kept, without the member's name in their path.
    """
    merged: list[dict[str, Any]] = []
    by_value: dict[tuple[Any, ...], list[tuple[str, dict[str, Any]]]] = {}
    for error in errors:
        loc = tuple(error["loc"])
        at = next((i for i, part in enumerate(loc) if isinstance(part, str) and _UNION_MEMBER.match(part)), None)
        if at is None:
            merged.append(error)
            continue
        members = by_value.setdefault(loc[:at], [])
        if not members:
            merged.append({"loc": loc[:at], "union": members, "input": error.get("input")})
        members.append((loc[at], {**error, "loc": loc[:at] + loc[at + 1 :]}))
    out: list[dict[str, Any]] = []
    for error in merged:
        if "union" not in error:
            out.append(error)
            continue
        deeper = [inner for _, inner in error["union"] if len(inner["loc"]) > len(error["loc"])]
        if deeper:  # the value took a member's shape and failed inside it: those are the errors to show
            out.extend(_merge_union_members(deeper))
            continue
        in_range = [inner for _, inner in error["union"] if not _wrong_type(inner)]
        if in_range:  # a member's type, out of its range (scale: -1)
            out.append(in_range[0])
            continue
        words = list(dict.fromkeys(word for tag, _ in error["union"] for word in _member_words(tag)))
        if "a number" in words and "an integer" in words:
            words.remove("an integer")
        expected = ", ".join(words[:-1]) + f" or {words[-1]}" if len(words) > 1 else words[0]
        out.append({"loc": error["loc"], "type": "union", "msg": f"expected {expected}", "input": error["input"]})
    return out
