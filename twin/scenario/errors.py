"""Scenario problems, reported all at once as ``file:line: path: given, accepted``.

A scenario file is read, validated as a whole, and every mistake is collected into one
:class:`ScenarioError`: users fix a file in one pass instead of one error per run.
:func:`problems_from_pydantic` turns a pydantic ``ValidationError`` into such problems, with
line numbers from the :class:`~twin.scenario.yamlio.LineMap` and messages in user language
(``unknown key 'UAA'; did you mean 'UA'? accepted keys: UA, cells, type``).
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pydantic

    from twin.scenario.yamlio import LineMap

__all__ = ["Problem", "ScenarioError", "problems_from_pydantic"]

_MISSING = object()
_BOUNDS = {"greater_than": (">", "gt"), "greater_than_equal": (">=", "ge"),
           "less_than": ("<", "lt"), "less_than_equal": ("<=", "le")}
_SIMPLE = {
    "int_type": "must be a whole number", "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number", "float_type": "must be a number",
    "float_parsing": "must be a number", "finite_number": "must be a finite number",
    "bool_type": "must be true or false", "bool_parsing": "must be true or false",
    "string_type": "must be text", "dict_type": "must be a mapping (key: value lines)",
    "model_type": "must be a mapping (key: value lines)",
    "model_attributes_type": "must be a mapping (key: value lines)",
    "list_type": "must be a list", "tuple_type": "must be a list",
    "none_required": "must be empty (null)",
}


@dataclass(frozen=True, order=True)
class Problem:
    """One mistake in a scenario: where it is, what was given, and what is accepted.

    Attributes
    ----------
    file
        The file name as given to the loader, or a label such as ``"--set"``.
    line
        1-based line number, or ``None`` where no line applies (command-line overrides).
    path
        Dotted field path, e.g. ``"components.pcm_bank.mass"`` (``""`` for the whole file).
    given
        What the user wrote, as a short repr (``"'20 tt'"``); ``""`` if nothing was given.
    accepted
        What would be accepted, in user language.
    """

    file: str
    line: int | None
    path: str
    given: str
    accepted: str

    def render(self) -> str:
        """``file:line: path: given, accepted`` (parts that are empty are left out)."""
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        what = f"{self.given}, {self.accepted}" if self.given else self.accepted
        return ": ".join(p for p in (where, self.path, what) if p)

    def __str__(self) -> str:
        return self.render()


def _sort_key(p: Problem) -> tuple:
    return (p.line is None, p.file, p.line or 0, p.path, p.accepted)


class ScenarioError(Exception):
    """All problems found in one scenario, one per line sorted by file and line.

    Problems without a line (command-line overrides) come last.

    Parameters
    ----------
    problems
        The problems; at least one.
    """

    def __init__(self, problems: Iterable[Problem]):
        self.problems: list[Problem] = sorted(problems, key=_sort_key)
        super().__init__("\n".join(p.render() for p in self.problems))

    @classmethod
    def single(cls, file: str, line: int | None, path: str, given: str, accepted: str):
        """A ``ScenarioError`` with one :class:`Problem`."""
        return cls([Problem(file, line, path, given, accepted)])


def _given(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _choices(expected: str) -> list[str]:
    """``"'a', 'b' or 'c'"`` (pydantic's ctx) -> ``["a", "b", "c"]``."""
    quoted = re.findall(r"'((?:[^'\\]|\\.)*)'", expected)
    return quoted or [c.strip() for c in re.split(r",| or ", expected) if c.strip()]


def _choice_text(given: Any, choices: Sequence[str], what: str = "accepted") -> str:
    close = difflib.get_close_matches(str(given), list(choices), n=1) if choices else []
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}{what}: {', '.join(choices)}"


def _unwrap(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and hasattr(tp, "model_fields")


def _tags(member: Any, discriminator: str | None = None) -> list[str]:
    """Literal values of a model's discriminator-like fields (``type: Literal["furnace"]``)."""
    if not _is_model(member):
        return []
    out = []
    for name, f in member.model_fields.items():
        is_literal = typing.get_origin(f.annotation) is typing.Literal
        if discriminator in (None, name, f.alias) and is_literal:
            out += [str(a) for a in typing.get_args(f.annotation)]
    return out


def _union_members(tp: Any) -> list[Any] | None:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [m for m in typing.get_args(tp) if m is not type(None)]
    return None


def _descend(tp: Any, loc: Sequence[Any]) -> Any:
    """The annotation reached by following a raw pydantic ``loc`` from ``tp`` (or None)."""
    tp = _unwrap(tp)
    if not loc:
        return tp
    seg, rest = loc[0], loc[1:]
    members = _union_members(tp)
    if members is not None:
        for m in members:
            name = getattr(_unwrap(m), "__name__", None)
            named = name is not None and (seg == name or str(seg).endswith(f" {name}]"))
            if named or seg in _tags(_unwrap(m)):
                return _descend(m, rest)
        return _descend(members[0], loc) if len(members) == 1 else None
    if _is_model(tp):
        for name, f in tp.model_fields.items():
            if seg in (name, f.alias):
                return _descend(f.annotation, rest)
        return None
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (dict, Mapping, typing.Mapping) and len(args) == 2:
        return _descend(args[1], rest)
    if origin is tuple and args and args[-1] is not Ellipsis and isinstance(seg, int):
        return _descend(args[seg], rest) if seg < len(args) else None
    if origin in (list, tuple, set, frozenset, Sequence) and args:
        return _descend(args[0], rest)
    return None


def _field_names(model: Any) -> list[str]:
    return sorted((f.alias or n) for n, f in model.model_fields.items())


def _clean(loc: Sequence[Any], data: Any, missing: bool) -> tuple[tuple, Any]:
    """Drop pydantic's internal segments (union tags, ``function-after[...]``, ``[key]``).

    Walks ``data`` alongside ``loc``: a segment that is a key (or index) of the current node
    is a field path step; any other segment is internal, except a final absent key of a
    ``missing`` error. Returns the clean path and the value found there.
    """
    node, out = data, []
    for i, seg in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, dict) and seg in node:
            out.append(seg)
            node = node[seg]
        elif isinstance(node, list) and isinstance(seg, int) and 0 <= seg < len(node):
            out.append(seg)
            node = node[seg]
        elif last and missing and isinstance(node, (dict, list)):
            out.append(seg)
            node = _MISSING
    return tuple(out), node


def _accepted(err: Mapping[str, Any], loc: tuple, model: Any) -> str:
    kind, ctx, msg = err["type"], err.get("ctx") or {}, err["msg"]
    if kind == "missing":
        return "required field missing"
    if kind == "extra_forbidden":
        parent = _descend(model, loc[:-1]) if model is not None else None
        key = loc[-1] if loc else "?"
        if _is_model(parent):
            keys = _field_names(parent)
            return f"unknown key {key!r}; " + _choice_text(key, keys, "accepted keys")
        return f"unknown key {key!r}"
    if kind in ("literal_error", "enum"):
        return _choice_text(err["input"], _choices(str(ctx.get("expected", ""))))
    if kind == "union_tag_invalid":
        return _choice_text(ctx.get("tag"), _choices(str(ctx.get("expected_tags", ""))))
    if kind == "union_tag_not_found":
        disc = str(ctx.get("discriminator", "")).strip("'")
        members = _union_members(_descend(model, loc)) if model is not None else None
        tags = [t for m in members or [] for t in _tags(_unwrap(m), disc)]
        accepted = f"; accepted: {', '.join(tags)}" if tags else ""
        return f"required field {disc!r} missing{accepted}"
    if kind in _BOUNDS:
        op, key = _BOUNDS[kind]
        return f"must be {op} {ctx.get(key)}"
    if kind == "multiple_of":
        return f"must be a multiple of {ctx.get('multiple_of')}"
    if kind in ("too_short", "string_too_short"):
        n = ctx.get("min_length")
        return "must not be empty" if n == 1 else f"must have at least {n} items"
    if kind in ("too_long", "string_too_long"):
        return f"must have at most {ctx.get('max_length')} items"
    if kind == "string_type" and isinstance(err.get("input"), (int, float)) \
            and not isinstance(err.get("input"), bool):
        return "must be text: YAML reads it as a number; put it in quotes"
    if kind in _SIMPLE:
        return _SIMPLE[kind]
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            return msg[len(prefix):]
    return msg[:1].lower() + msg[1:]


def problems_from_pydantic(
    exc: pydantic.ValidationError,
    file: str,
    linemap: LineMap | None,
    data: Any,
    model: Any = None,
) -> list[Problem]:
    """Translate every error of a pydantic ``ValidationError`` into a :class:`Problem`.

    Parameters
    ----------
    exc
        The validation error (all of its errors are used).
    file
        File name for the report.
    linemap
        Line numbers of the loaded file; ``None`` gives ``line=None``.
    data
        The plain data that was validated (used to tell field keys from pydantic's internal
        union-tag segments, and to find the value at a path).
    model
        The validated model class, if known: enables "accepted keys: ..." for unknown keys
        and the accepted tags for a missing discriminator.

    Returns
    -------
    list[Problem]
        One problem per distinct path; errors of several union members at the same path are
        joined with ``" or "``.
    """
    merged: dict[tuple, list[str]] = {}
    for err in exc.errors(include_url=False):
        raw = tuple(err["loc"])
        path, value = _clean(raw, data, err["type"] == "missing")
        accepted = _accepted(err, raw, model)
        given = "" if err["type"] == "missing" else _given(value if value is not _MISSING
                                                            else err["input"])
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            disc = str((err.get("ctx") or {}).get("discriminator", "")).strip("'")
            if disc and isinstance(value, dict):
                path += (disc,)
                given = _given(value[disc]) if disc in value else ""
        texts = merged.setdefault((path, given), [])
        if accepted not in texts:
            texts.append(accepted)
    problems = []
    for (path, given), texts in merged.items():
        if linemap is not None:
            where, line = linemap.locate(path, file)
        else:
            where, line = file, None
        dotted = ".".join(str(p) for p in path)
        problems.append(Problem(where, line, dotted, given, " or ".join(texts)))
    return sorted(problems, key=_sort_key)
