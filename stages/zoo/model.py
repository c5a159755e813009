"""Typed schemas of everything under ``params/``.

Files and what they load into:

- ``params/profile.yaml``          -> :class:`ProfileChoice`
- ``params/sources.yaml``          -> :class:`Sources` (the seed pages and their tables)
- ``params/defaults/<task>.yaml``  -> :class:`Defaults` (one per task family)
- ``params/zoo/<task>.yaml``       -> ``entries:`` mapping of name -> :class:`Entry`
- ``params/review.yaml``           -> :class:`Review` (tolerances of ``python -m stages.diff``)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional

Task = Literal["classification", "detection", "face_detection", "instance_segmentation",
               "semantic_segmentation"]
Dataset = Literal["imagenet", "cifar10", "coco", "voc", "widerface", "cityscapes"]
Profile = Literal["tiny", "full"]
#: A published value: one number, or one per element of the record's list-valued condition.
Value = Optional[float | list[Optional[float]]]

#: Field metadata of a setting that a resolved config leaves out while it is null: a setting added
#: later then changes only the configs (and DVC stages) of the families that set it.
OMIT_NULL = {"omit_null": True}


@dataclass(frozen=True)
class ProfileChoice:
    """``params/profile.yaml``: the one switch between embedded data and paper scale."""

    profile: Profile
    threads: int = 2
    seed: int = 0


@dataclass(frozen=True)
class Page:
    """A seed page."""

    file: str
    title: str
    lang: Literal["en", "zh"]


@dataclass(frozen=True)
class Table:
    """One table of a seed page, found as the ``index``-th table under ``heading``."""

    page: str
    heading: str
    index: int = 1
    dataset: Optional[str] = None
    note: Optional[str] = None


@dataclass(frozen=True)
class Sources:
    """``params/sources.yaml``."""

    pages: dict[str, Page]
    tables: dict[str, Table]


@dataclass(frozen=True)
class Arch:
    """Architecture with its exact variant, at paper scale."""

    name: str
    input: int
    classes: int
    backbone: Optional[str] = None
    scale: float = 1.0
    variant: Optional[str] = None
    neck: Optional[Literal["fpn"]] = None
    dcn: bool = False


@dataclass(frozen=True)
class Quant:
    """Quantization: post-training (``quant_post``) or quant-aware training (``quant_aware``)."""

    kind: Literal["post", "aware"]
    weight_bits: int = 8
    activation_bits: int = 8
    algo: Literal["hist", "KL", "mse", "avg", "abs_max"] = "hist"
    not_quant_pattern: list[str] = ()


@dataclass(frozen=True)
class Prune:
    """Channel pruning.

    ``params`` and ``ratios`` may name a group / preset from the family defaults.
    ``target_flops_reduction`` is the fraction of FLOPs removed (0.5 for "-50%").
    """

    strategy: Literal["uniform", "sensitive", "auto", "fixed"]
    criterion: Literal["l1_norm", "geometry_median"] = "l1_norm"
    params: Optional[str | list[str]] = None
    ratios: Optional[str | list[float]] = None
    ratio: Optional[float] = None
    target_flops_reduction: Optional[float] = None


@dataclass(frozen=True)
class Distill:
    """Knowledge distillation from another zoo entry."""

    teacher: str
    strategy: Literal["soft_label", "l2", "fine_grained"]
    temperature: float = 1.0
    weight: float = 1.0


@dataclass(frozen=True)
class Nas:
    """Neural architecture search (SANAS): search tokens under a constraint against the space's
    initial network, or, with ``use_tokens``, train the declared (published) ``tokens`` as they are."""

    algo: Literal["sanas"]
    search_space: str
    tokens: Optional[list[int]] = None
    use_tokens: bool = False
    target_flops_reduction: Optional[float] = None
    target_params_reduction: Optional[float] = None


@dataclass(frozen=True)
class Method:
    """Compression applied to the base entry, in the order prune -> distill -> quant (nas alone)."""

    prune: Optional[Prune] = None
    distill: Optional[Distill] = None
    quant: Optional[Quant] = None
    nas: Optional[Nas] = None


@dataclass(frozen=True)
class Train:
    """Training recipe as published (batch per GPU, schedule, pretraining)."""

    batch_per_gpu: Optional[int] = None
    gpus: Optional[int] = None
    epochs: Optional[int] = None
    iters: Optional[int] = None
    lr: Optional[float] = None
    lr_schedule: Optional[Literal["piecewise", "cosine"]] = None
    pretrain: Optional[Literal["imagenet", "objects365", "ssld"]] = None
    recipe: Optional[Literal["standard", "ssld", "mixup"]] = None


@dataclass(frozen=True)
class Published:
    """Values that one seed table publishes for an entry, with the conditions they hold under.

    At most one of ``input``, ``device`` and ``threads`` is a list: the record's axis. Metric
    values given as lists align with it; scalars hold for the whole record.
    """

    src: str
    download: Optional[str] = None
    download_lite: Optional[str] = None
    input: Optional[int | list[int]] = None
    device: Optional[str | list[str]] = None
    threads: Optional[int | list[int]] = None
    isa: Optional[Literal["armv7", "armv8"]] = None
    batch: Optional[int] = None
    top1: Value = None
    top5: Value = None
    acc: Value = None
    box_ap: Value = None
    mask_ap: Value = None
    miou: Value = None
    easy: Value = None
    medium: Value = None
    hard: Value = None
    size_mb: Value = None
    size_kb: Value = None
    params_mb: Value = None
    gflops: Value = None
    latency_ms: Value = None
    fps: Value = None
    delta: dict[str, Value] = field(default_factory=dict)
    delta_pct: dict[str, Value] = field(default_factory=dict)
    note: Optional[str] = None


@dataclass(frozen=True)
class RunOverride:
    """One entry's departures from its family's run settings in one profile (the entry's
    ``profiles.<profile>``): for a model that the shared schedule leaves under-trained."""

    epochs: Optional[int] = None
    lr: Optional[float] = None
    batch_size: Optional[int] = None
    finetune_epochs: Optional[int] = None
    finetune_lr: Optional[float] = None
    weights: Optional[str] = None  # a .pdparams file or URL to start training from (stages/train.initialise)
    bn_shift: Optional[float] = None  # the batch-norm shift from scratch (ProfileSettings.bn_shift)


@dataclass(frozen=True)
class Entry:
    """One zoo entry: a distinct model."""

    task: Task
    dataset: Dataset
    arch: Arch
    title: str
    base: Optional[str] = None
    method: Method = Method()
    train: Train = Train()
    published: list[Published] = ()
    note: Optional[str] = None
    profiles: dict[str, RunOverride] = field(default_factory=dict)


@dataclass(frozen=True)
class ProfileSettings:
    """How a task family runs under one profile.

    ``data`` maps each dataset the family's entries use to its directory, in that dataset's real
    layout (the loaders in ``stages.zoo.datasets`` read it).
    """

    data: dict[Dataset, str]
    input: Optional[int] = None
    scale: Optional[float] = None
    classes: Optional[int] = None
    epochs: Optional[int] = None
    batch_size: int = 32
    lr: float = 0.01
    train_images: Optional[int] = None  # a fixed random part of the train split (all when null)
    finetune_epochs: Optional[int] = None
    finetune_lr: Optional[float] = None
    search_iters: int = 20  # auto pruning and NAS: candidates the annealing controller proposes
    search_steps: int = 50  # NAS: training steps before a candidate is scored
    bench_seconds: float = 1.0  # timing per latency figure (after warm-up, at least bench_runs runs)
    bench_runs: int = 30
    bench_warmup: Optional[int] = field(default=None, metadata=OMIT_NULL)  # untimed calls first (10 when null)
    calib_batches: int = 4
    optimizer: Literal["momentum", "adamw"] = "momentum"
    warmup_epochs: float = 0.0
    lr_schedule: Optional[Literal["piecewise", "cosine"]] = None  # overrides the recipe's, in this profile
    # every batch-norm shift (beta) starts here, not at 0, before training from scratch: see
    # stages/zoo/cls/fit.shift_batch_norms
    bn_shift: Optional[float] = field(default=None, metadata=OMIT_NULL)
    # weights to start training from: an entry's profiles.<name>.weights, or the family's, where
    # "{backbone}" stands for the entry's backbone (detection: stage det_pretrain's output)
    weights: Optional[str] = field(default=None, metadata=OMIT_NULL)
    # epochs of the classification profile's data that stage det_pretrain trains each backbone for
    # (0: the backbone as published, untrained here: with pretrain_from `published` only)
    pretrain_epochs: Optional[int] = field(default=None, metadata=OMIT_NULL)
    # where stage det_pretrain starts each backbone: `scratch` (null), or `published`: the ImageNet
    # weights that the family's `pretrain` names for it
    pretrain_from: Optional[Literal["scratch", "published"]] = field(default=None, metadata=OMIT_NULL)


@dataclass(frozen=True)
class Defaults:
    """``params/defaults/<task>.yaml``: what every entry of the family shares."""

    profiles: dict[str, ProfileSettings]
    train: Train = Train()
    param_groups: dict[str, list[str]] = field(default_factory=dict)
    ratio_presets: dict[str, list[float]] = field(default_factory=dict)
    # backbones that stage det_pretrain pretrains (the detection recipes' ImageNet initialisation), each
    # with its published ImageNet weights (a .pdparams file or URL; profiles' pretrain_from: published)
    pretrain: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Tolerance:
    """How much worse a metric may get before a change is a regression."""

    accuracy_points: float = 1.0
    latency_pct: float = 15.0
    latency_sigmas: float = 3.0
    size_pct: float = 1.0


@dataclass(frozen=True)
class Review:
    """``params/review.yaml``: tolerances, ignored keys and expected published-measured gaps."""

    tolerance: Tolerance = Tolerance()
    ignore: list[str] = ()
    expected_gap: dict[str, dict[str, float]] = field(default_factory=dict)
