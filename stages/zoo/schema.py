"""Strict loading of plain YAML data into frozen, typed dataclasses.

Every problem is collected (not raised at the first one) as a :class:`Problem` that names the
file, the entry and the dotted key, so that ``python -m stages.validate`` can print one line each.

Supported field types: ``int``, ``float`` (an int is accepted), ``str``, ``bool``, ``None``,
``list[T]``, ``dict[str, T]`` (or ``dict[Literal[...], T]``), ``Literal[...]``, unions (``A | B``) and nested dataclasses.
Unknown keys and missing required keys are problems; there is no ``eval`` anywhere.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal, Union


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the params, located precisely.

    Attributes:
        file: Path of the params file, relative to the repository root.
        entry: Zoo entry (or section) the problem is in; "-" when it concerns the whole file.
        key: Dotted key inside the entry, e.g. ``method.prune.ratio``.
        message: What is wrong and what was expected.
    """

    file: str
    entry: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: entry '{self.entry}': key '{self.key}': {self.message}"


@dataclass
class Where:
    """Where a value sits: collects problems found beneath it."""

    file: str
    entry: str
    key: str = ""
    problems: list[Problem] = field(default_factory=list)

    def at(self, key: str | int) -> "Where":
        """Return the location of a child key (sharing the problem list)."""
        if isinstance(key, int):
            sub = f"{self.key}[{key}]"
        else:
            sub = f"{self.key}.{key}" if self.key else key
        return Where(self.file, self.entry, sub, self.problems)

    def fail(self, message: str) -> None:
        """Record a problem at this location."""
        self.problems.append(Problem(self.file, self.entry, self.key or "-", message))


def _describe(tp: Any) -> str:
    """Human name of a type hint, for error messages."""
    origin = typing.get_origin(tp)
    if tp is type(None):
        return "null"
    if tp is float:
        return "a number"
    if tp is int:
        return "an integer"
    if tp is str:
        return "a string"
    if tp is bool:
        return "true/false"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin is list:
        return f"a list of {_describe(typing.get_args(tp)[0])}"
    if origin is dict:
        return f"a mapping to {_describe(typing.get_args(tp)[1])}"
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(tp))
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    return str(tp)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def convert(tp: Any, value: Any, where: Where) -> Any:
    """Check ``value`` against the type hint ``tp`` and build typed objects.

    Args:
        tp: A type hint from a schema dataclass.
        value: Plain data as loaded from YAML.
        where: Location of the value; problems are appended to it.

    Returns:
        The converted value (dataclass instances, tuples for lists), or None after a problem.
    """
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        return _convert_union(tp, value, where)
    if dataclasses.is_dataclass(tp):
        return load(tp, value, where)
    if origin is Literal:
        if value in typing.get_args(tp) and not isinstance(value, bool):
            return value
    elif origin is list:
        if isinstance(value, list):
            return tuple(convert(typing.get_args(tp)[0], v, where.at(i)) for i, v in enumerate(value))
    elif origin is dict:
        if isinstance(value, dict):
            key_tp, inner = typing.get_args(tp)
            out = {}
            for k, v in value.items():
                if not isinstance(k, str):
                    where.at(str(k)).fail(f"keys must be strings, got {_show(k)}")
                    continue
                if typing.get_origin(key_tp) is Literal and k not in typing.get_args(key_tp):
                    where.at(k).fail(f"unknown key {k!r} (expected {_describe(key_tp)})")
                    continue
                out[k] = convert(inner, v, where.at(k))
            return out
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif tp is type(None):
        if value is None:
            return None
    elif isinstance(value, tp) and not (tp is int and isinstance(value, bool)):
        return value
    where.fail(f"expected {_describe(tp)}, got {_show(value)} ({type(value).__name__})")
    return None


def _convert_union(tp: Any, value: Any, where: Where) -> Any:
    """Try each alternative of a union; the first without problems wins."""
    for alt in typing.get_args(tp):
        trial = Where(where.file, where.entry, where.key)
        result = convert(alt, value, trial)
        if not trial.problems:
            return result
    # A mapping given for a union holding one dataclass: report that dataclass's own problems.
    classes = [a for a in typing.get_args(tp) if dataclasses.is_dataclass(a)]
    if len(classes) == 1 and isinstance(value, dict):
        return load(classes[0], value, where)
    where.fail(f"expected {_describe(tp)}, got {_show(value)} ({type(value).__name__})")
    return None


def load(cls: type, data: Any, where: Where) -> Any:
    """Build dataclass ``cls`` from a mapping, rejecting unknown and missing keys.

    Args:
        cls: A dataclass whose fields carry type hints.
        data: The mapping loaded from YAML.
        where: Location of ``data``.

    Returns:
        An instance of ``cls``, or None if the data was not a mapping or a required key is missing.
    """
    if not isinstance(data, dict):
        where.fail(f"expected a mapping, got {_show(data)} ({type(data).__name__})")
        return None
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    known = ", ".join(sorted(fields))
    for key in data:
        if key not in fields:
            where.at(str(key)).fail(f"unknown key (allowed: {known})")
    kwargs = {}
    complete = True
    for name, f in fields.items():
        if name in data:
            kwargs[name] = convert(hints[name], data[name], where.at(name))
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            where.at(name).fail("required key is missing")
            complete = False
    return cls(**kwargs) if complete else None
