"""End to end through DVC in a temporary copy of the repository: one classification entry per method.

The copy's profile is cut down (a few dozen images, one epoch) so the slice runs in minutes; the
stages, params layout and dvc.yaml are the repository's own.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SLICE = {  # entry -> method it stands for
    "mobilenetv1-quant_post": "post-training quantization",
    "mobilenetv1-quant_aware": "quant-aware training",
    "mobilenetv1-prune_uniform50": "uniform pruning",
    "mobilenetv1-prune_sensitive30": "sensitivity pruning",
    "resnet34-prune_auto55": "auto pruning",
    "mobilenetv1-distill_resnet50_vd": "distillation",
    "mobilenetv2-sanas": "SANAS search",
}
# measured too; resnet34 (auto pruning's base) and resnet50_vd (the teacher) are only trained, as DVC
# runs what the targets need
BASELINE = "mobilenetv1"
pytestmark = pytest.mark.slow


def _copy(dest: Path, task: str = "classification", data: str | tuple[str, ...] = "cls", **profile) -> Path:
    """The repository's files (tracked and new, not ignored) in ``dest``, as a fresh git repository,
    with the ``task``'s tiny profile changed by ``profile``, no entry's own run settings (they would
    win over it: 10 epochs instead of 1) and small embedded ``data`` sets."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    # DVC parses and rewrites the zoo's lock (600 KB) around every stage it runs, ~6 s each, and none of
    # its records hold for the cut-down copy
    (dest / "dvc.lock").unlink()
    path = dest / f"params/zoo/{task}.yaml"  # every `profiles:` there is one line (an anchor or its alias)
    path.write_text(re.sub(r"^ +profiles: .*\n", "", path.read_text(encoding="utf-8"), flags=re.M), encoding="utf-8")
    path = dest / f"params/defaults/{task}.yaml"
    defaults = yaml.safe_load(path.read_text(encoding="utf-8"))
    defaults["profiles"]["tiny"].update(profile)
    path.write_text(yaml.safe_dump(defaults), encoding="utf-8")
    path = dest / "params/data.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    for name in (data,) if isinstance(data, str) else data:
        config["datasets"][name].update(train=160, val=50)
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    _commit(dest, "copy")
    return dest


def _commit(repo: Path, message: str) -> None:
    """Commit everything in ``repo`` (new files too), even when nothing changed."""
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message, "--allow-empty"],
                   cwd=repo, check=True)


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def _dvc(repo: Path, *args: str) -> str:
    done = subprocess.run([str(Path(sys.executable).parent / "dvc"), *args], cwd=repo, env=_env(),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


# session, not module: under xdist the worker may run other modules' tests between the "sliced" ones,
# and a module fixture is then built again (CI ran the 7-minute slice twice)
@pytest.fixture(scope="session")
def sliced(tmp_path_factory):
    repo = _copy(tmp_path_factory.mktemp("zoo"), train_images=48, epochs=1, batch_size=16, finetune_epochs=1,
                 calib_batches=2, search_iters=3, search_steps=2, bench_seconds=0.01, bench_runs=2, bench_warmup=1)
    targets = [f"benchmark@{name}" for name in [BASELINE, *SLICE]]
    log = _dvc(repo, "repro", *targets)
    return repo, targets, log


def _metrics(repo: Path, entry: str, name: str) -> dict:
    return json.loads((repo / "metrics" / entry / name).read_text(encoding="utf-8"))


@pytest.mark.xdist_group("sliced")  # make test runs two workers: the module fixture runs once, on one
def test_every_method_writes_measured_metrics(sliced):
    repo, _, log = sliced
    for entry in [BASELINE, *SLICE]:
        figures = _metrics(repo, entry, "benchmark.json")
        assert figures["entry"] == entry and 0 <= figures["top1"] <= 100 and figures["commit"]
        assert figures["paddle_fp32_t1_paper_median_ms"] > 0 and figures["paper_input"] == 224
    base = _metrics(repo, BASELINE, "benchmark.json")
    for entry in ("mobilenetv1-quant_post", "mobilenetv1-quant_aware"):
        figures = _metrics(repo, entry, "benchmark.json")
        assert figures["top1"] == figures["paddle_int8_top1"] and "onnx_int8_top1" in figures
        # int8 weights: a quarter of the fp32 bytes, give or take the graph and the scales
        assert figures["paddle_int8_size_mb"] < 0.5 * figures["paddle_fp32_size_mb"]
        assert figures["onnx_int8_size_mb"] < 0.5 * figures["onnx_fp32_size_mb"]
        assert figures["paper_size_mb"] == pytest.approx(base["paper_size_mb"] / 4)
    for entry, target in (("mobilenetv1-prune_uniform50", 0.5), ("mobilenetv1-prune_sensitive30", 0.3)):
        done, figures = _metrics(repo, entry, "compress/compress.json"), _metrics(repo, entry, "benchmark.json")
        assert done["flops_reduction"] == pytest.approx(target, abs=0.06)
        assert figures["paddle_fp32_size_mb"] < 0.9 * base["paddle_fp32_size_mb"]  # physically smaller
        assert figures["paper_gflops"] < 0.9 * base["paper_gflops"] and figures["paper_params_m"] < base["paper_params_m"]
    sensitivity = _metrics(repo, "mobilenetv1-prune_sensitive30", "compress/sensitivity.json")
    assert len(sensitivity) > 5 and all(set(by) == {f"0.{k}" for k in range(1, 10)} for by in sensitivity.values())
    search = _metrics(repo, "resnet34-prune_auto55", "compress/search.json")["trace"]
    assert len(search) == 3 and _metrics(repo, "resnet34-prune_auto55", "compress/compress.json")[
        "flops_reduction"] >= 0.5505
    assert (repo / "metrics/mobilenetv1-distill_resnet50_vd/compress/curves").is_dir()
    assert all(0 <= _metrics(repo, name, "train/train.json")["top1"] <= 100 for name in ("resnet34", "resnet50_vd"))
    nas = _metrics(repo, "mobilenetv2-sanas", "search/search.json")
    assert len(nas["trace"]) == 3 and nas["searched"] and len(nas["tokens"]) == 25
    assert all(t["constraint"] >= nas["target"] for t in nas["trace"])
    model = _metrics(repo, "mobilenetv2-sanas", "../../models/mobilenetv2-sanas/model/model.json")
    assert model["tokens"] == nas["tokens"] and model["constructor"] == "nas:MobileNetV2Space"


@pytest.mark.xdist_group("sliced")
def test_second_repro_does_nothing_and_one_change_reruns_one_chain(sliced):
    repo, targets, _ = sliced
    assert "Running stage" not in _dvc(repo, "repro", *targets)
    path = repo / "params/zoo/classification.yaml"
    text = path.read_text(encoding="utf-8")
    old = "method: {prune: {strategy: uniform, target_flops_reduction: 0.5}}"
    at = text.index(old, text.index("  mobilenetv1-prune_uniform50:"))  # that entry's line, not its twins'
    path.write_text(text[:at] + old.replace("0.5", "0.4") + text[at + len(old):], encoding="utf-8")
    ran = re.findall(r"Running stage '([^']+)'", _dvc(repo, "repro", *targets))
    assert sorted(ran) == [f"{stage}@mobilenetv1-prune_uniform50" for stage in ("benchmark", "compress", "export",
                                                                                 "resolve")]
    assert _metrics(repo, "mobilenetv1-prune_uniform50", "compress/compress.json")["flops_reduction"] == \
        pytest.approx(0.4, abs=0.06)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(f.relative_to(folder)): f.read_bytes() for f in sorted(folder.rglob("*")) if f.is_file()}


@pytest.mark.xdist_group("sliced")
def test_pushed_artifacts_pull_identical_into_another_clone(sliced, tmp_path):
    """`dvc push` to a local-directory remote, then `dvc pull` in a fresh git clone and `dvc get` from the
    repository give the exported models byte for byte (the site's download commands)."""
    repo, _, _ = sliced
    _dvc(repo, "remote", "add", "-d", "shared", str(tmp_path / "remote"))
    _commit(repo, "run")
    subprocess.run(["git", "clone", "-q", str(repo), str(tmp_path / "clone")], check=True)
    _dvc(repo, "push", f"export@{BASELINE}")
    clone = tmp_path / "clone"
    assert not (clone / f"models/{BASELINE}/export").exists()
    _dvc(clone, "pull", f"export@{BASELINE}")
    exported = _files(repo / f"models/{BASELINE}/export")
    assert exported and _files(clone / f"models/{BASELINE}/export") == exported
    _dvc(tmp_path, "get", str(repo), f"models/{BASELINE}/export", "-o", str(tmp_path / "got"))
    assert _files(tmp_path / "got") == exported


@pytest.mark.xdist_group("sliced")
def test_experiment_queue_runs_two_entries_at_once(sliced):
    """`dvc exp run --queue` of two entries' chains, each with its own profile change, then
    `dvc queue start -j 2`: both succeed with their benchmark metrics, and the workspace is untouched."""
    repo, _, _ = sliced
    _commit(repo, "before")
    # family keys that these entries do not override in their own profiles (so their configs change)
    changes = {"mobilenetv1-prune_uniform50": "bench_runs=3", "mobilenetv1-quant_post": "calib_batches=1"}
    for entry, change in changes.items():
        _dvc(repo, "exp", "run", "--queue", "--name", entry, f"benchmark@{entry}",
             "-S", f"params/defaults/classification.yaml:profiles.tiny.{change}")
    _dvc(repo, "queue", "start", "-j", "2")
    try:
        deadline = time.time() + 900
        while re.search(r"Queued|Running", _dvc(repo, "queue", "status")) and time.time() < deadline:
            time.sleep(5)
        status = _dvc(repo, "queue", "status")
        assert all(re.search(rf"{entry}\s+.*Success", status) for entry in changes), status
        shown = json.loads(_dvc(repo, "exp", "show", "--json"))
        runs = {run["name"]: run["revs"][0]["data"] for top in shown for run in top.get("experiments") or []}
        for entry in changes:
            assert runs[entry]["metrics"][f"metrics/{entry}/benchmark.json"]["data"]["top1"] >= 0
        assert subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True).stdout == ""
    finally:  # the queue's workers would otherwise idle on after a failed check
        _dvc(repo, "queue", "stop")


def test_killed_training_then_repro_finishes_clean(tmp_path):
    repo = _copy(tmp_path, train_images=400, epochs=3, batch_size=16, bench_seconds=0.01, bench_runs=2)
    _dvc(repo, "repro", "resolve@resnet18", "data@cls")
    dvc = subprocess.Popen([str(Path(sys.executable).parent / "dvc"), "repro", "train@resnet18"], cwd=repo,
                           env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 300
    staging = repo / "models/resnet18"
    while time.time() < deadline and dvc.poll() is None and not list(staging.glob(".model.*")):
        time.sleep(0.2)  # the stage makes its staging folders beside the outs before it trains
    time.sleep(3)
    assert dvc.poll() is None, "training finished before it could be killed"
    os.killpg(dvc.pid, signal.SIGKILL)
    dvc.wait()
    assert not (repo / "models/resnet18/model").exists()  # nothing half-written in the out's place
    _dvc(repo, "repro", "train@resnet18")
    assert (repo / "models/resnet18/model/model.pdparams").is_file()
    assert not [p for p in (repo / "models/resnet18").iterdir() if p.name.startswith(".")]  # no staging left
    assert _metrics(repo, "resnet18", "train/train.json")["epochs"] == 3
    assert "Running stage" not in _dvc(repo, "repro", "train@resnet18")


@pytest.mark.parametrize("task,prefix,entry,runs,paper,scores_agree,before", [
    # a VOC YOLOv3 (the COCO one runs in tests/test_det.py); the seeds publish its mAP as Box AP; its
    # backbone pretrained on data/cls first
    ("detection", "det", "yolov3_mobilenetv1-voc", 2, 608,
     lambda f: f["box_ap"] == f["voc_map"] == f["paddle_fp32_voc_map"], {"det_pretrain@MobileNetV1": "cls"}),
    # a DeepLabv3+, with latency at the seeds' 769 px
    ("semantic_segmentation", "seg", "deeplabv3p_mobilenetv2-cityscapes", 1, 769,
     lambda f: f["miou"] == f["paddle_fp32_miou"] > 0, {}),
])
def test_dense_chain_through_dvc(tmp_path, task, prefix, entry, runs, paper, scores_agree, before):
    """<prefix>_train -> <prefix>_export -> <prefix>_benchmark of one detector or segmenter (the embedded
    set of the same name as the stage prefix), after the stages ``before`` it (on their data sets),
    then a second repro that does nothing."""
    repo = _copy(tmp_path, task, (prefix, *before.values()), epochs=1, pretrain_epochs=1, bench_seconds=0.01,
                 bench_runs=runs)
    ran = re.findall(r"Running stage '([^']+)'", _dvc(repo, "repro", f"{prefix}_benchmark@{entry}"))
    assert {f"{prefix}_{s}@{entry}" for s in ("train", "export", "benchmark")} | set(before) <= set(ran)
    figures = _metrics(repo, entry, "benchmark.json")
    assert figures["entry"] == entry and scores_agree(figures)
    assert figures["paddle_fp32_t1_paper_median_ms"] > figures["paddle_fp32_t1_profile_median_ms"] > 0
    assert figures["paper_input"] == paper and figures["commit"]
    assert (repo / "metrics" / entry / "sample.png").stat().st_size > 1000
    assert "Running stage" not in _dvc(repo, "repro", f"{prefix}_benchmark@{entry}")
