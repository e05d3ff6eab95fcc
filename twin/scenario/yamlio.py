"""Reading scenario YAML with line numbers, and command-line ``--set`` overrides.

Files are read with ruamel.yaml's round-trip loader in YAML 1.2 mode, so the YAML 1.1 traps
of other loaders do not apply: ``NO``, ``on``, ``yes`` and ``12:30`` stay strings, only
``true``/``false`` are booleans, ``1e3`` is the float 1000.0, ``012`` is the integer 12
(decimal) and ``0o12`` is 10. Two ruamel extras beyond the YAML 1.2 core schema: ``1_000``
reads as 1000, and ``2024-01-01`` as a ``datetime.date``. Duplicate keys are errors, named by
their field path and the line of the first occurrence. A scenario file (``leading_zeros=False``,
as :func:`twin.scenario.build.load_scenario` reads it) also rejects integers written with a
leading zero (``012``): YAML 1.1 readers take them as octal (10), so the file would mean
different numbers to different tools.

The loaded round-trip nodes are converted to plain ``dict``/``list``/``str``/``int``/
``float``/``bool``/``None`` for validation, and a :class:`LineMap` keeps the 1-based line of
every key and list item, addressed by path tuples such as ``("components", "pcm_bank",
"mass")`` or ``("connections", 3, 1)``.
"""

from __future__ import annotations

import copy
import difflib
import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from twin.scenario.errors import Problem, ScenarioError

__all__ = ["LineMap", "apply_override", "load_yaml", "load_yaml_text", "parse_scalar"]


class LineMap:
    """1-based line numbers of the nodes of a loaded YAML file, by path tuple.

    Parameters
    ----------
    lines
        Path tuple -> line. The root ``()`` is line 1.
    file
        The file name used in reports.
    """

    def __init__(self, lines: dict[tuple, int] | None = None, file: str = "<string>"):
        self.lines: dict[tuple, int] = {(): 1, **(lines or {})}
        self.file = file
        self.overrides: dict[tuple, str] = {}

    def line(self, path: Sequence[Any]) -> int:
        """Line of ``path``, or of its nearest ancestor present in the file."""
        path = tuple(path)
        while path not in self.lines:
            path = path[:-1]
        return self.lines[path]

    def mark_override(self, path: Sequence[Any], label: str) -> None:
        """Record that ``path`` (and everything below it) came from ``label``, not the file."""
        self.overrides[tuple(path)] = label

    def locate(self, path: Sequence[Any], file: str | None = None) -> tuple[str, int | None]:
        """``(file, line)`` for a problem at ``path``; ``(label, None)`` for overridden values."""
        path = tuple(path)
        for i in range(len(path), -1, -1):
            if path[:i] in self.overrides:
                return self.overrides[path[:i]], None
        return (file if file is not None else self.file), self.line(path)

    def __contains__(self, path: object) -> bool:
        return tuple(path) in self.lines  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"LineMap({self.file!r}, {len(self.lines)} paths)"


def _yaml(typ: str = "rt"):
    from ruamel.yaml import YAML

    y = YAML(typ=typ, pure=True)
    y.version = (1, 2)
    y.allow_duplicate_keys = False
    return y


def _duplicate_where(text: str, key: str, ctx_line: int, line: int | None) -> str:
    """`` at <path> (first given on line N)`` for a duplicate ``key`` whose mapping starts
    on ``ctx_line``: the text is read again with duplicates allowed (ruamel keeps the first)."""
    y = _yaml()
    y.allow_duplicate_keys = True
    try:
        lines: dict[tuple, int] = {(): 1}
        _to_plain(y.load(io.StringIO(text)), (), lines, "", [])
    except Exception:  # noqa: BLE001  (best effort: the message stands without it)
        return ""
    first_child: dict[tuple, int] = {}
    for path, n in lines.items():
        if path:
            first_child[path[:-1]] = min(n, first_child.get(path[:-1], n))
    found = [p for p in lines if p and str(p[-1]) == key
             and ctx_line in (lines.get(p[:-1]), first_child.get(p[:-1]))]
    if len(found) != 1:
        return ""
    return f" at {'.'.join(map(str, found[0]))} (first given on line {lines[found[0]]})"


def _yaml_problem(exc: Exception, file: str, line_offset: int = 0, text: str | None = None) -> Problem:
    """A ruamel ``MarkedYAMLError`` as a :class:`Problem` at its line."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 + line_offset if mark is not None else None
    problem = (getattr(exc, "problem", None) or str(exc)).strip()
    dup = re.match(r'found duplicate key "(.*?)"', problem)
    if dup:
        ctx = getattr(exc, "context_mark", None)
        where = _duplicate_where(text, dup.group(1), ctx.line + 1, line) \
            if text is not None and ctx is not None else ""
        if not where and ctx is not None:
            where = f" (in the mapping that starts on line {ctx.line + 1})"
        return Problem(file, line, "", "", f"duplicate key {dup.group(1)!r}{where}: a key may "
                       "appear once in a mapping")
    context = (getattr(exc, "context", None) or "").strip()
    text = f"YAML syntax error: {context + ': ' if context else ''}{problem}"
    return Problem(file, line, "", "", text)


def _leading_zero(node: Any) -> str | None:
    """Why a round-trip integer written with a leading zero (``012``) is ambiguous, or None.

    YAML 1.1 tools read ``012`` as octal 10 and ``09`` as text; ``07`` and ``00`` mean the
    same everywhere and pass.
    """
    from ruamel.yaml.scalarint import ScalarInt

    if type(node) is not ScalarInt or (node._width or 0) <= len(str(abs(int(node)))):
        return None
    value = int(node)
    digits = f"{abs(value):0{node._width}d}"
    written = f"{'-' if value < 0 else ''}{digits}"
    if set(digits) <= set("01234567"):
        octal = int(written, 8)
        if octal == value:
            return None
        return (f"a leading zero is ambiguous: YAML 1.2 (twin) reads {value}, YAML 1.1 tools "
                f"read octal {octal}; write {value} for the number, or '{written}' in quotes "
                "for text")
    return (f"a leading zero is ambiguous: YAML 1.2 (twin) reads {value}, YAML 1.1 tools read "
            f"text; write {value} for the number, or '{written}' in quotes for text")


def _to_plain(node: Any, path: tuple, lines: dict, file: str, problems: list,
              leading_zeros: bool = True) -> Any:
    """Round-trip node -> plain Python value, recording lines of keys and items."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
    from ruamel.yaml.scalarbool import ScalarBoolean

    if isinstance(node, CommentedMap):
        out = {}
        for key, value in node.items():
            key = _to_plain(key, path, {}, file, problems)
            try:
                lines[path + (key,)] = node.lc.key(key)[0] + 1
            except (KeyError, TypeError):  # merged (<<) keys have no own position
                lines[path + (key,)] = lines.get(path, 1)
            out[key] = _to_plain(value, path + (key,), lines, file, problems, leading_zeros)
        return out
    if isinstance(node, CommentedSeq):
        out_list = []
        for i, value in enumerate(node):
            lines[path + (i,)] = node.lc.item(i)[0] + 1
            out_list.append(_to_plain(value, path + (i,), lines, file, problems, leading_zeros))
        return out_list
    if isinstance(node, TaggedScalar):
        problems.append(Problem(file, lines.get(path), ".".join(map(str, path)), repr(
            f"{node.tag.value} {node.value}"), "custom YAML tags are not supported"))
        return node.value
    if isinstance(node, (bool, ScalarBoolean)):
        return bool(node)
    why = None if leading_zeros else _leading_zero(node)
    if why is not None:
        written = f"{'-' if node < 0 else ''}{abs(int(node)):0{node._width}d}"
        problems.append(Problem(file, lines.get(path), ".".join(map(str, path)), repr(written), why))
        return int(node)
    for plain in (int, float, str):
        if isinstance(node, plain):
            return plain(node)
    return node


#: the last few parses, by (text, file, leading_zeros): a scenario is often loaded again with
#: other ``--set`` overrides (the probes of sensitivities, sweeps and calibration), and the
#: round-trip parser costs about 0.25 ms per scalar (seconds for a file with long measured
#: schedules). Each call gets its own copy.
_PARSED: dict[tuple, tuple[dict, dict]] = {}
_PARSED_MAX = 8


def load_yaml_text(text: str, file: str = "<string>", *,
                   leading_zeros: bool = True) -> tuple[dict, LineMap]:
    """Parse scenario YAML text; see :func:`load_yaml`."""
    key = (text, file, leading_zeros)
    if key not in _PARSED:
        data, linemap = _parse_yaml_text(text, file, leading_zeros)
        while len(_PARSED) >= _PARSED_MAX:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[key] = (data, linemap.lines)
    data, lines = _PARSED[key]
    return _copy_containers(data), LineMap(dict(lines), file)


def _copy_containers(value: Any) -> Any:
    """A copy of the dicts and lists; their leaves are immutable scalars, shared (not
    ``copy.deepcopy``: ruamel's timestamps drop their time zone when deep-copied)."""
    if isinstance(value, dict):
        return {k: _copy_containers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_containers(v) for v in value]
    return value


def _parse_yaml_text(text: str, file: str, leading_zeros: bool) -> tuple[dict, LineMap]:
    from ruamel.yaml.error import YAMLError

    try:
        raw = _yaml().load(io.StringIO(text))
    except YAMLError as exc:
        raise ScenarioError([_yaml_problem(exc, file, text=text)]) from None
    if raw is None:
        raise ScenarioError.single(file, 1, "", "", "the file is empty: expected a mapping "
                                   "of keys like 'name:' and 'components:'")
    lines: dict[tuple, int] = {(): 1}
    problems: list[Problem] = []
    data = _to_plain(raw, (), lines, file, problems, leading_zeros)
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"the value {data!r}"
        problems.append(Problem(file, 1, "", "", f"the top level is {kind}: expected a mapping "
                                "of keys like 'name:' and 'components:'"))
    if problems:
        raise ScenarioError(problems)
    return data, LineMap(lines, file)


def load_yaml(path: str | Path, *, leading_zeros: bool = True) -> tuple[dict, LineMap]:
    """Load a scenario file as plain data plus the line of every key.

    Parameters
    ----------
    path
        The YAML file.
    leading_zeros
        Accept integers written with a leading zero (``012`` reads as 12); False makes each
        a problem (the file means octal 10 to YAML 1.1 tools).

    Returns
    -------
    data : dict
        The file's top-level mapping, made of plain Python values.
    linemap : LineMap
        Line numbers by path tuple, for error reports.

    Raises
    ------
    ScenarioError
        For unreadable files, YAML syntax errors, duplicate keys, custom tags, and a top
        level that is not a mapping, with file and line.
    """
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError.single(file, None, "", "", f"cannot read the file: {exc}") from None
    return load_yaml_text(text, file, leading_zeros=leading_zeros)


def parse_scalar(value_text: str, label: str = "--set") -> Any:
    """Read one command-line value the way YAML 1.2 reads a value in a file.

    ``"30 kW/K"`` stays a string, ``"1e-8"`` is a float, ``"48"`` an int, ``"true"`` a bool,
    ``"[a, b]"`` a list; the empty string stays ``""``.
    """
    from ruamel.yaml.error import YAMLError

    if not value_text.strip():
        return ""
    if re.fullmatch(r"\s*[+-]?0\d+\s*", value_text):  # as in a file: 012 is octal to YAML 1.1
        number = int(value_text)
        raise ScenarioError.single(label, None, "", repr(value_text.strip()),
                                   f"a leading zero is ambiguous (YAML 1.1 tools read octal); "
                                   f"write {number} for the number, or quote it for text")
    try:
        value = _yaml("safe").load(value_text)
    except YAMLError as exc:
        p = _yaml_problem(exc, label)
        raise ScenarioError.single(label, None, "", repr(value_text), p.accepted) from None
    return _to_plain(value, (), {}, label, [])


def apply_override(
    data: dict,
    path: str,
    value_text: str,
    *,
    linemap: LineMap | None = None,
    top_level_keys: Iterable[str] | None = None,
) -> dict:
    """Return a copy of ``data`` with one ``--set path=value`` override applied.

    Parameters
    ----------
    data
        Plain scenario data from :func:`load_yaml` (not modified).
    path
        Dotted path. If the first segment names a component, it addresses
        ``components.<name>.<field...>`` (``recuperator.UA``); otherwise a top-level key
        (``duration``, ``solver.rtol``). Numeric segments index lists (``connections.0.1``).
        A component named like a top-level key wins; write ``components.<name>...`` or
        rename to avoid that.
    value_text
        The value, read as a YAML scalar (:func:`parse_scalar`).
    linemap
        If given, the override is recorded so problems at this path report ``--set <path>``
        instead of a file line.
    top_level_keys
        Top-level keys allowed although absent from ``data`` (the schema's field names);
        by default only keys present in ``data``.

    Returns
    -------
    dict
        The updated copy; the caller validates it with the same schema as the file.

    Raises
    ------
    ScenarioError
        For an unknown component or top-level key (listing the known ones), or a path that
        runs through a value that is not a mapping or list.
    """
    label = "--set"
    segments = path.split(".")
    if not path or any(not s for s in segments):
        raise ScenarioError.single("--set", None, "", repr(path), "empty path segment")
    components = data.get("components")
    components = components if isinstance(components, dict) else {}
    allowed = set(data) | set(top_level_keys or ())
    if segments[0] in components:
        full: list[Any] = ["components", *segments]
    elif segments[0] in allowed:
        full = list(segments)
    else:
        names = sorted(map(str, components))
        close = difflib.get_close_matches(segments[0], names + sorted(allowed), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ScenarioError.single(
            "--set", None, path, repr(segments[0]),
            f"unknown component or top-level key; {hint}components: {', '.join(names) or '-'}"
            f"; top-level keys: {', '.join(sorted(allowed))}",
        )
    value = parse_scalar(value_text, label)
    new = copy.deepcopy(data)
    node: Any = new
    for i, seg in enumerate(full):
        last = i == len(full) - 1
        where = ".".join(map(str, full[: i + 1]))
        if isinstance(node, list):
            if not (seg.lstrip("-").isdigit() and -len(node) <= int(seg) < len(node)):
                raise ScenarioError.single("--set", None, where, repr(seg),
                                           f"must be a list index 0 to {len(node) - 1}")
            full[i] = seg = int(seg) % len(node)
        elif not isinstance(node, dict):
            raise ScenarioError.single("--set", None, where, "",
                                       f"cannot set a field inside {_short(node)}")
        if last:
            node[seg] = value
        else:
            if isinstance(node, dict) and seg not in node:
                node[seg] = {}
            node = node[seg]
    if linemap is not None:
        linemap.mark_override(full, label)
    return new


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."



def rewrite_scenario(text: str, values: dict[str, str], note: str = "") -> str:
    """The scenario ``text`` with each ``path: value text`` of ``values`` set in place: only
    the value's characters change, so comments, layout and flow lists survive (how
    ``twin optimize`` and ``twin calibrate`` write the scenario they found). Paths follow
    :func:`apply_override`; a key missing from a block mapping is added as a new line.
    ``note`` becomes comment lines at the top of the file."""
    lines = text.splitlines(keepends=True)
    for path, value_text in values.items():
        doc = _yaml().load(io.StringIO("".join(lines)))  # positions after the previous edits
        segments = path.split(".")
        comps = doc.get("components") or {}
        full = ["components", *segments] if segments[0] in comps else segments
        node = doc
        for seg in full[:-1]:
            node = node[int(seg)] if isinstance(node, list) else node[seg]
        last = full[-1]
        if isinstance(node, list):
            line, col = node.lc.item(int(last))
        elif last in node:
            line, col = node.lc.value(last)
        else:
            if node.fa.flow_style():
                raise ValueError(f"{path}: cannot add a key to a flow mapping {{...}}; write it in the file first")
            first = next(iter(node))
            kl, kc = node.lc.key(first)
            lines.insert(kl + 1, f"{' ' * kc}{last}: {value_text}\n")
            continue
        old = lines[line]
        flow = node.fa.flow_style()
        if old[col] in "'\"":
            end = old.index(old[col], col + 1) + 1
        else:
            stop = ",]}" if flow else ""
            end = col
            while end < len(old) and old[end] not in stop + "\n" and old[end:end + 2] != " #":
                end += 1
            while end > col and old[end - 1] == " ":
                end -= 1
        lines[line] = old[:col] + value_text + old[end:]
    head = "".join(f"# {x}\n" if x else "#\n" for x in note.splitlines())
    return head + "".join(lines)
