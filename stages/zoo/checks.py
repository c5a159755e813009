"""Checks that span fields or entries: names, lineage, catalog names, ranges, list lengths."""

from __future__ import annotations

from dataclasses import fields

from . import catalog
from .model import Defaults, Entry, Prune, Published, Sources
from .schema import Problem, Where

_METRIC_FIELDS = [f.name for f in fields(Published) if f.name in catalog.METRICS]


def check_registry(entries: dict[str, Entry], files: dict[str, str], sources: Sources,
                   defaults: dict[str, Defaults], problems: list[Problem]) -> None:
    """Append a problem for every cross-reference or range that does not hold.

    Args:
        entries: Entries that passed the schema, by name.
        files: Params file of every declared entry name (including ones that failed the schema).
        sources: The seed tables that published values cite.
        defaults: Family defaults by task.
        problems: Where problems are appended.
    """
    for name, entry in entries.items():
        where = Where(files[name], name, "", problems)
        _check_arch(entry, where.at("arch"))
        _check_lineage(name, entry, entries, files, where)
        family = defaults.get(entry.task)
        if entry.method.prune is not None and family is not None:
            _check_prune(entry.method.prune, family, where.at("method.prune"))
        if entry.method.nas is not None:
            nas = entry.method.nas
            if nas.search_space not in catalog.SEARCH_SPACES:
                where.at("method.nas.search_space").fail(
                    f"unknown search space {nas.search_space!r} (known: {', '.join(catalog.SEARCH_SPACES)})")
            _check_fraction(nas.target_flops_reduction, where.at("method.nas.target_flops_reduction"))
            _check_fraction(nas.target_params_reduction, where.at("method.nas.target_params_reduction"))
            if nas.use_tokens and nas.tokens is None:
                where.at("method.nas.use_tokens").fail("use_tokens needs the tokens to use (method.nas.tokens)")
        for i, record in enumerate(entry.published):
            _check_published(record, sources, where.at("published").at(i))
        if family is not None:
            _check_data(entry, family, where.at("dataset"))
            for profile in sorted(set(entry.profiles) - set(family.profiles)):
                where.at("profiles").at(profile).fail(
                    f"no such profile in params/defaults/{entry.task}.yaml (known: {', '.join(family.profiles)})")


def _check_data(entry: Entry, family: Defaults, where: Where) -> None:
    for profile, run in family.profiles.items():
        if entry.dataset not in run.data:
            where.fail(f"no directory for {entry.dataset!r} in the {profile} profile's data "
                       f"(params/defaults/{entry.task}.yaml)")


def _check_arch(entry: Entry, where: Where) -> None:
    arch = entry.arch
    spec = catalog.ARCHS.get(arch.name)
    if spec is None:
        where.at("name").fail(f"unknown architecture {arch.name!r} (known: {', '.join(catalog.ARCHS)})")
        return
    if entry.task not in spec.tasks:
        where.at("name").fail(f"{arch.name} serves {', '.join(spec.tasks)}, not {entry.task}")
    if arch.backbone is not None and arch.backbone not in spec.backbones:
        allowed = ", ".join(spec.backbones) or "none"
        where.at("backbone").fail(f"unknown backbone {arch.backbone!r} for {arch.name} (allowed: {allowed})")
    if arch.backbone is None and spec.backbones:
        where.at("backbone").fail(f"{arch.name} needs a backbone (one of {', '.join(spec.backbones)})")
    if arch.variant is not None and arch.variant not in spec.variants:
        allowed = ", ".join(spec.variants) or "none"
        where.at("variant").fail(f"unknown variant {arch.variant!r} for {arch.name} (allowed: {allowed})")
    for key in ("input", "classes"):
        if getattr(arch, key) <= 0:
            where.at(key).fail("must be a positive integer")
    if not 0 < arch.scale <= 4:
        where.at("scale").fail(f"width scale {arch.scale} is outside (0, 4]")


def _check_lineage(name: str, entry: Entry, entries: dict[str, Entry], files: dict[str, str],
                   where: Where) -> None:
    method = entry.method
    compressed = any(getattr(method, k) is not None for k in ("prune", "distill", "quant", "nas"))
    if entry.base is None:
        if compressed and method.nas is None:
            where.at("base").fail("a compressed entry needs a base entry")
        return
    if entry.base not in files:
        where.at("base").fail(f"base {entry.base!r} is not an entry")
    elif entry.base == name:
        where.at("base").fail("an entry cannot be its own base")
    else:
        if not name.startswith(entry.base + "-"):
            where.at("base").fail(f"a compressed entry is named '<base>-<method>', so it must start "
                                  f"with '{entry.base}-'")
        base = entries.get(entry.base)
        if base is not None and base.task != entry.task:
            where.at("base").fail(f"base {entry.base!r} is a {base.task} entry, not {entry.task}")
    if not compressed:
        where.at("method").fail("an entry with a base must declare a compression method")
    if method.distill is not None:
        teacher = method.distill.teacher
        if teacher not in files:
            where.at("method.distill.teacher").fail(f"teacher {teacher!r} is not an entry")
        elif teacher == name:
            where.at("method.distill.teacher").fail("an entry cannot be its own teacher")


def _check_fraction(value: float | None, where: Where) -> None:
    if value is not None and not 0 <= value < 1:
        where.fail(f"{value} is outside [0, 1)")


def _check_prune(prune: Prune, family: Defaults, where: Where) -> None:
    _check_fraction(prune.ratio, where.at("ratio"))
    _check_fraction(prune.target_flops_reduction, where.at("target_flops_reduction"))
    params, ratios = prune.params, prune.ratios
    if isinstance(params, str):
        if params not in family.param_groups:
            where.at("params").fail(f"unknown parameter group {params!r} "
                                    f"(defaults declare: {', '.join(family.param_groups) or 'none'})")
            return
        params = family.param_groups[params]
    if isinstance(ratios, str):
        if ratios not in family.ratio_presets:
            where.at("ratios").fail(f"unknown ratio preset {ratios!r} "
                                    f"(defaults declare: {', '.join(family.ratio_presets) or 'none'})")
            return
        ratios = family.ratio_presets[ratios]
    for i, r in enumerate(ratios or ()):
        _check_fraction(r, where.at("ratios").at(i))
    if ratios is not None and params is not None and len(ratios) != len(params):
        where.at("ratios").fail(f"{len(ratios)} ratios for {len(params)} pruned parameters")
    if ratios is not None and params is None:
        where.at("params").fail("per-parameter ratios need the list of pruned parameters")
    given = [k for k in ("ratio", "ratios", "target_flops_reduction") if getattr(prune, k) is not None]
    if len(given) != 1:
        where.fail(f"give exactly one of ratio, ratios, target_flops_reduction (got {', '.join(given) or 'none'})")


def _check_published(record: Published, sources: Sources, where: Where) -> None:
    if record.src not in sources.tables:
        where.at("src").fail(f"unknown source table {record.src!r} (see params/sources.yaml)")
    axes = [k for k in ("input", "device", "threads") if isinstance(getattr(record, k), tuple)]
    if len(axes) > 1:
        where.fail(f"at most one list-valued condition, got {', '.join(axes)}")
        return
    length = len(getattr(record, axes[0])) if axes else None
    values = {k: getattr(record, k) for k in _METRIC_FIELDS}
    for kind in ("delta", "delta_pct"):
        for metric, value in getattr(record, kind).items():
            if metric not in catalog.METRICS:
                where.at(kind).at(metric).fail(f"unknown metric (known: {', '.join(catalog.METRICS)})")
            values[f"{kind}.{metric}"] = value
    for key, value in values.items():
        if isinstance(value, tuple) and len(value) != length:
            expected = f"{length} values (one per {axes[0]})" if axes else "a single number (no list condition)"
            where.at(key).fail(f"{len(value)} values given, expected {expected}")
