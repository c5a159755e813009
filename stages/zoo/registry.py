"""The zoo registry: every entry under ``params/``, loaded strictly and cross-checked.

One name per entry is used everywhere: the params key, ``models/<name>/``, the metrics file and
the site anchor. A compressed entry is named ``<base>-<method tag>``.

    >>> reg = load_registry(Path("params"))   # raises Invalid with every problem found
    >>> reg.entries["mobilenetv1-quant_post"].method.quant.kind
    'post'
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from . import catalog
from .model import Defaults, Entry, ProfileChoice, Sources
from .schema import Problem, Where, load

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.]*(-[a-z0-9_.]+)*$")


class Invalid(Exception):
    """The params hold problems; ``problems`` lists each one."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s) in params")
        self.problems = problems


@dataclass(frozen=True)
class Registry:
    """Everything declared under ``params/``.

    Attributes:
        root: The params directory.
        choice: The selected profile and thread count.
        sources: Seed pages and tables that published values cite.
        defaults: Family defaults by task.
        entries: Zoo entries by name, in declaration order.
        files: For each entry, the params file that declares it (relative path).
    """

    root: Path
    choice: ProfileChoice
    sources: Sources
    defaults: dict[str, Defaults]
    entries: dict[str, Entry]
    files: dict[str, str]


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when built in: ~10x faster
    """Safe loader that refuses duplicate mapping keys (PyYAML silently keeps the last)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict:
    loader.flatten_mapping(node)
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path, rel: str, problems: list[Problem]) -> Any:
    """Parse one YAML file; a syntax error or duplicate key becomes one problem."""
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.load(f, Loader=_StrictLoader)  # noqa: S506 - SafeLoader subclass
    except FileNotFoundError:
        problems.append(Problem(rel, "-", "-", "file is missing"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark else ""
        problems.append(Problem(rel, _entry_at(path, mark), "-", f"{line}{getattr(err, 'problem', err)}"))
    return None


def _entry_at(path: Path, mark: Any) -> str:
    """Name of the zoo entry whose block holds the YAML error mark, if any."""
    if mark is None:
        return "-"
    lines = path.read_text(encoding="utf-8").splitlines()[: mark.line + 1]
    section = next((ln.strip() for ln in reversed(lines) if re.match(r"^  [a-z]+:", ln)), "")
    # entries sit at 2 spaces (data, published), 4 (zoo sections) or 6 (zoo groups)
    pattern = r"^      ([A-Za-z0-9_.\-]+):" if section.startswith("groups:") else r"^(?:  |    )([A-Za-z0-9_.\-]+):"
    for line in reversed(lines):
        m = re.match(pattern, line)
        if m and m.group(1) not in (*_SECTIONS, "entries", "groups"):
            return m.group(1)
    return "-"


def load_registry(root: Path) -> Registry:
    """Load and check every params file under ``root``.

    Args:
        root: The ``params`` directory.

    Returns:
        The registry.

    Raises:
        Invalid: With one :class:`Problem` per thing wrong, in file order.
    """
    problems: list[Problem] = []
    top = root.parent

    def rel(p: Path) -> str:
        return p.relative_to(top).as_posix() if p.is_relative_to(top) else p.as_posix()

    choice = _load_one(ProfileChoice, root / "profile.yaml", rel, problems)
    sources = _load_one(Sources, root / "sources.yaml", rel, problems)
    defaults: dict[str, Defaults] = {}
    for task in catalog.TASKS:
        d = _load_one(Defaults, root / "defaults" / f"{task}.yaml", rel, problems)
        if d is not None:
            defaults[task] = d
    entries, files = _load_entries(root, rel, problems)
    if sources is not None:
        from .checks import check_registry  # local: checks imports this module's types

        check_registry(entries, files, sources, defaults, problems)
    if problems or choice is None or sources is None:
        raise Invalid(problems)
    return Registry(root, choice, sources, defaults, entries, files)


def load_or_report(root: Path) -> Registry | None:
    """Load the registry, or print each problem on its own line to stderr and return None.

    The shared front door of every stage's ``main()``: no traceback, one line per problem.
    """
    try:
        return load_registry(root)
    except Invalid as err:
        report(err, f"{root}/")
        return None


def report(err: Invalid, where: str) -> None:
    """Print each problem on its own line to stderr, then their count in ``where``."""
    for problem in err.problems:
        print(problem, file=sys.stderr)
    print(f"{len(err.problems)} problem(s) in {where}", file=sys.stderr)


def _load_one(cls: type, path: Path, rel, problems: list[Problem]) -> Any:
    data = read_yaml(path, rel(path), problems)
    if data is None:
        return None
    return load(cls, data, Where(rel(path), "-", "", problems))


def _load_entries(root: Path, rel, problems: list[Problem]) -> tuple[dict[str, Entry], dict[str, str]]:
    """Load ``params/zoo/<task>.yaml`` with ``params/published/<task>.yaml``.

    Entries with schema problems are left out of the result (their names stay in ``files``).
    """
    entries: dict[str, Entry] = {}
    files: dict[str, str] = {}
    zoo_files = sorted((root / "zoo").glob("*.yaml"))
    if not zoo_files:
        problems.append(Problem(rel(root / "zoo"), "-", "-", "no entry files found"))
    for path in zoo_files:
        name = rel(path)
        declared, roles = _zoo_sections(path, name, problems)
        pub_path = root / "published" / path.name
        published = _mapping_under(pub_path, rel(pub_path), "published", problems) if pub_path.exists() else {}
        for key in set(published) - set(declared):
            problems.append(Problem(rel(pub_path), str(key), "-", f"published values for an entry not declared in {name}"))
        for key, raw in declared.items():
            key = str(key)
            where = Where(name, key, "", [])
            if key in files:
                where.fail(f"duplicate entry name (already declared in {files[key]})")
            elif not NAME_RE.match(key):
                where.fail(f"name must match {NAME_RE.pattern} (lowercase, '-' between parts)")
            if isinstance(raw, dict) and "published" in raw:
                where.at("published").fail(f"published values belong in {rel(pub_path)}")
            elif isinstance(raw, dict) and key in published:
                raw = {**raw, "published": published[key]}
            _check_role(raw, roles[key], where)
            if isinstance(raw, dict) and "task" in raw and raw["task"] != path.stem:
                where.at("task").fail(f"entry of task {raw['task']!r} must be declared in "
                                      f"params/zoo/{raw['task']}.yaml")
            entry = load(Entry, raw, where)
            problems.extend(where.problems)
            if not where.problems and entry is not None:
                entries[key] = entry
            files.setdefault(key, name)
    return entries, files


def _check_role(raw: Any, role: str, where: Where) -> None:
    """An entry's section matches it: a base means compressed or distilled, a teacher means distilled."""
    if not isinstance(raw, dict):
        return
    method, arch = raw.get("method"), raw.get("arch")
    searched = (isinstance(method, dict) and method.get("nas") is not None) or \
        (isinstance(arch, dict) and catalog.ARCHS.get(arch.get("name")) is not None
         and catalog.ARCHS[arch["name"]].library == "paddleslim")
    if searched != (role == "searched"):
        where.at("method").fail("entries found by NAS (a nas method or a search-space architecture) belong "
                                f"under 'searched', the others not (this one is under {role!r})")
    if role == "searched":
        return
    if (role != "baselines") != ("base" in raw):
        where.at("base").fail("entries with a base belong under 'compressed' or 'distilled', entries without "
                              f"one under 'baselines' (this one is under {role!r})")
    teacher = isinstance(method, dict) and isinstance(method.get("distill"), dict)
    if "base" in raw and teacher != (role == "distilled"):
        where.at("method.distill").fail("entries distilled from a teacher belong under 'distilled', the other "
                                        f"compressed entries under 'compressed' (this one is under {role!r})")


_SECTIONS = ("baselines", "compressed", "distilled", "searched")


def _zoo_sections(path: Path, name: str, problems: list[Problem]) -> tuple[dict, dict[str, str]]:
    """Entries of a zoo file and the section of each.

    A zoo file has one mapping under its task's name holding ``baselines``, ``compressed``,
    ``distilled`` and ``searched`` (NAS), and ``entries``, their union by a YAML merge key; the
    top-level ``entries`` is that union again (an alias), so that dvc.yaml can loop over one task's
    role (``${classification.baselines}``), over one task (``${classification.entries}``) and over
    every task's entries (``${entries}``, merged across the files) without any entry written twice.
    An optional ``groups`` mapping names subsets of entries (``groups: {yolov3: &yolov3 {...}}`` merged
    into ``baselines: {<<: [*yolov3, ...]}``), for stages that serve only some; a group may merge other
    groups across sections (a baseline group and its compressed entries, for export and benchmark).
    """
    data = read_yaml(path, name, problems)
    if data is None:
        return {}, {}
    task = path.stem
    sections = data.get(task) if isinstance(data, dict) else None
    if not isinstance(data, dict) or set(data) != {task, "entries"} or not isinstance(sections, dict) or \
            set(sections) - {"groups"} != {*_SECTIONS, "entries"} or \
            not all(isinstance(v, (dict, type(None))) for v in sections.values()):
        problems.append(Problem(name, "-", "-", f"expected '{task}:' with mappings {', '.join(_SECTIONS)} and "
                                                "'entries: &entries {<<: [*baselines, *compressed, *distilled, "
                                                "*searched]}', and 'entries: *entries'"))
        return {}, {}
    declared, roles = {}, {}
    for section in _SECTIONS:
        for key, raw in (sections[section] or {}).items():
            if key in roles:
                problems.append(Problem(name, str(key), "-", f"declared under both {roles[key]} and {section}"))
            declared[key], roles[str(key)] = raw, section
    for key, entries in (("entries", data["entries"]), (f"{task}.entries", sections["entries"])):
        if not isinstance(entries, (dict, type(None))) or dict(entries or {}) != declared:
            problems.append(Problem(name, "-", key, "must be exactly every entry of the file: " + (
                "'entries: *entries'" if key == "entries" else
                "'<<: [*baselines, *compressed, *distilled, *searched]'")))
    _check_groups(sections.get("groups") or {}, declared, name, problems)
    return declared, roles


def _check_groups(groups: dict, declared: dict, name: str, problems: list[Problem]) -> None:
    """Each group is a mapping of entries that are also declared, whole, in a section."""
    for group, members in groups.items():
        if not isinstance(members, dict) or not members:
            problems.append(Problem(name, "-", f"groups.{group}", "must be a mapping of entries"))
            continue
        for key, raw in members.items():
            if declared.get(key) is not raw:
                problems.append(Problem(name, str(key), f"groups.{group}", "a group's entries must be merged, "
                                        f"as they are, into a section: '<<: [*{group}, ...]'"))


def _mapping_under(path: Path, name: str, top: str, problems: list[Problem]) -> dict:
    """The mapping under the single top-level key ``top`` of a YAML file ({} after a problem)."""
    data = read_yaml(path, name, problems)
    if data is None:
        return {}
    if not isinstance(data, dict) or set(data) != {top} or not isinstance(data[top], (dict, type(None))):
        problems.append(Problem(name, "-", "-", f"expected exactly one top-level key '{top}' (a mapping)"))
        return {}
    return data[top] or {}
