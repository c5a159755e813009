"""The classification train stage on a few embedded images: outputs, curves, provenance, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stages.zoo.catalog import ARCHS
from stages.zoo.cls.models import _SCALED
from stages.zoo.cls.nas import ARCH_SPACES
from stages.zoo.resolve import resolve
from zoo_groups import arch_names


@pytest.fixture(scope="module")
def config(registry, embedded, tmp_path_factory):
    cfg = resolve(registry, "mobilenetv1", "tiny")
    cfg["data"] = str(embedded["root"] / "cls")  # 12 train, 6 val images
    cfg["run"].update(epochs=2, batch_size=4)
    path = tmp_path_factory.mktemp("cfg") / "config.json"
    path.write_text(json.dumps(cfg), encoding="utf-8")
    return path


def _train(config: Path, out: Path) -> int:
    from stages.train import main

    return main(["--config", str(config), "--out", str(out / "train"), "--metrics", str(out / "metrics")])


def test_train_writes_weights_curves_and_figures(config, tmp_path):
    import paddle

    from stages.zoo.cls import models

    assert _train(config, tmp_path) == 0
    model_info = json.loads((tmp_path / "train/model.json").read_text())
    assert model_info["constructor"] == "MobileNetV1_x0_25" and model_info["input"] == 32
    assert json.loads((tmp_path / "train/config.json").read_text())["name"] == "mobilenetv1"
    model = models.build({"name": "MobileNetV1", "scale": 0.25, "classes": 10})
    state = paddle.load(str(tmp_path / "train/model.pdparams"))
    assert set(state) == set(model.state_dict())
    curve = (tmp_path / "metrics/plots/metrics/val_top1.tsv").read_text().splitlines()
    assert len(curve) == 1 + 2  # header + one row per epoch
    figures = json.loads((tmp_path / "metrics/train.json").read_text())
    assert 0 <= figures["top1"] <= 100 and figures["epochs"] == 2 and figures["val_images"] == 6
    assert figures["threads"] == 2 and figures["version_paddlepaddle"] and figures["cpu"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left


def test_train_is_deterministic(config, tmp_path):
    import numpy as np
    import paddle

    for run in ("a", "b"):
        assert _train(config, tmp_path / run) == 0
    a = paddle.load(str(tmp_path / "a/train/model.pdparams"))
    b = paddle.load(str(tmp_path / "b/train/model.pdparams"))
    assert all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a)


def test_train_refuses_a_compressed_entry(registry, tmp_path, capsys):
    from stages.train import main

    path = tmp_path / "config.json"
    path.write_text(json.dumps(resolve(registry, "mobilenetv1-quant_post", "tiny")), encoding="utf-8")
    assert main(["--config", str(path), "--out", str(tmp_path / "o"), "--metrics", str(tmp_path / "m")]) == 1
    assert "trains classification baselines" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_train_reports_a_missing_dataset(config, tmp_path, capsys):
    from stages.train import main

    cfg = json.loads(config.read_text())
    cfg["data"] = str(tmp_path / "nowhere")
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg), encoding="utf-8")
    assert main(["--config", str(path), "--out", str(tmp_path / "o"), "--metrics", str(tmp_path / "m")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nowhere: no such directory" in err[0]


def test_recalibrate_bn_reaches_paddleclas_batchnorm(embedded):
    """PaddleClas builds with the legacy paddle.nn.BatchNorm: its statistics must be re-estimated too."""
    import numpy as np
    import paddle

    from stages.zoo.cls import data, fit, models
    from stages.zoo.datasets import load

    model = models.build({"name": "MobileNetV1", "scale": 0.25, "classes": 10})
    norms = [m for m in model.sublayers() if isinstance(m, paddle.nn.BatchNorm)]
    assert norms and float(np.abs(norms[0]._mean.numpy()).sum()) == 0.0
    images = data.ImageSet(load("imagenet", embedded["root"] / "cls", "train"), 32)
    fit.recalibrate_bn(model, images, batches=1, batch_size=12, rng=np.random.default_rng(0))
    x, _ = next(images.batches(12))
    with paddle.no_grad():  # one batch with momentum 0: the running mean is that batch's mean
        first = model.conv.conv(paddle.to_tensor(x)).numpy()
    assert np.allclose(norms[0]._mean.numpy(), first.mean(axis=(0, 2, 3)), atol=1e-5)
    assert norms[0]._momentum == 0.9


@pytest.mark.parametrize("name", ["MobileNetV1", "MobileNetV2", "ResNet50", "ShuffleNetV2"])
def test_bn_shift_starts_every_batch_norm_but_the_classifiers_there(name):
    """Every batch norm of a PaddleClas model (legacy and 2.x classes alike) but the last in layer order
    starts at the profile's shift. That last one has the classifier's input width: in the light nets it
    feeds the pool and classifier; in ResNet50 it is the last bottleneck's, before the residual add."""
    import numpy as np
    import paddle

    from stages.zoo.cls import fit, models

    model = models.build({"name": name, "scale": 0.25, "classes": 10, "input": 32})
    kinds = (paddle.nn.BatchNorm, paddle.nn.layer.norm._BatchNormBase)
    norms = [m for m in model.sublayers() if isinstance(m, kinds)]
    assert fit.shift_batch_norms(model, None) == 0 and np.all(norms[0].bias.numpy() == 0.0)
    assert fit.shift_batch_norms(model, 2.0) == len(norms) - 1 > 0
    assert all(np.all(m.bias.numpy() == 2.0) for m in norms[:-1]) and np.all(norms[-1].bias.numpy() == 0.0)
    fc = [m for m in model.sublayers() if isinstance(m, paddle.nn.Linear)][-1]
    assert norms[-1]._mean.shape[0] == fc.weight.shape[0]  # the unshifted one is as wide as the classifier's input


#: The registry's classification architectures that PaddleClas builds at one width.
ONE_WIDTH = [name for name in arch_names("classification") if name not in _SCALED and name not in ARCH_SPACES]


#: The one-width network whose narrowed model is also saved and loaded back (:func:`..cls.models.load` narrows
#: every one-width net the same way; each load-back costs as much as its narrowing).
LOADED_BACK = "ResNet50"


@pytest.mark.parametrize("name", ONE_WIDTH)
def test_a_one_width_architecture_is_narrowed_to_the_profile_width(name, tmp_path):
    """At the tiny profile's scale 0.25 every ordinary convolution of a one-width PaddleClas network keeps
    a quarter of its filters, as does every FC layer before the classifier (AlexNet's), the classifier
    takes the narrowed features, and the saved model loads back from its model.json (checked once for
    each way of narrowing: :data:`LOADED_BACK`, pruned by PaddleSlim, and AlexNet, traced)."""
    import json

    import paddle

    from stages.zoo.cls import models

    size = max(32, ARCHS[name].min_input or 0)  # AlexNet's maps vanish below 224 px
    arch = {"name": name, "classes": 10, "input": size}
    info = models.describe({**arch, "scale": 0.25})
    full, small = models.build({**arch, "scale": 1.0}), models.build({**arch, "scale": 0.25})
    convs = [[m.weight.shape[0] for m in net.sublayers() if isinstance(m, paddle.nn.Conv2D) and m._groups == 1]
             for net in (full, small)]
    hidden = [[m.weight.shape[1] for m in net.sublayers() if isinstance(m, paddle.nn.Linear)][:-1] for net in (full, small)]
    assert info["width"] == 0.25 and info["narrowed"] and len(convs[0]) == len(convs[1])
    assert all(abs(s - f / 4) <= 1 for f, s in zip(convs[0] + hidden[0], convs[1] + hidden[1])), name
    assert small(paddle.randn([2, 3, size, size])).shape == [2, 10]
    if name not in (LOADED_BACK, "AlexNet"):
        return
    paddle.save(small.state_dict(), str(tmp_path / "model.pdparams"))
    (tmp_path / "model.json").write_text(json.dumps(info), encoding="utf-8")
    loaded, _ = models.load(tmp_path)
    assert {k: v.shape for k, v in loaded.state_dict().items()} == {k: v.shape for k, v in small.state_dict().items()}


def test_bn_shift_is_in_the_configs_of_the_families_that_set_it_only(registry):
    """A null ``OMIT_NULL`` setting is left out of a resolved config, so adding one leaves the other
    families' configs, and their DVC stages, as they were; an entry's own shift wins (MobileNetV2)."""
    for name, entry in registry.entries.items():
        run = resolve(registry, name, "tiny")["run"]
        own = entry.profiles["tiny"].bn_shift if "tiny" in entry.profiles else None
        shift = registry.defaults[entry.task].profiles["tiny"].bn_shift if own is None else own
        assert run.get("bn_shift") == shift and ("bn_shift" in run) == (shift is not None), name


def _with(config: Path, folder: Path, **changes) -> Path:
    """A copy of ``config`` with ``run`` and ``arch`` keys changed."""
    cfg = json.loads(config.read_text())
    for part, values in changes.items():
        cfg[part].update(values)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    return folder / "config.json"


def test_train_starts_from_weights_and_keeps_a_head_of_other_shape_fresh(config, tmp_path):
    assert _train(config, tmp_path / "a") == 0
    weights = str(tmp_path / "a/train/model.pdparams")
    assert _train(_with(config, tmp_path / "b", run={"weights": weights, "epochs": 1}), tmp_path / "b") == 0
    same = json.loads((tmp_path / "b/metrics/train.json").read_text())
    assert same["weights"] == weights and same["weights_fresh"] == 0 and same["weights_loaded"] > 2
    # 12 classes in place of 10: the classifier's weight and bias cannot come from the file
    other = _with(config, tmp_path / "c", run={"weights": weights, "epochs": 1}, arch={"classes": 12})
    assert _train(other, tmp_path / "c") == 0
    figures = json.loads((tmp_path / "c/metrics/train.json").read_text())
    assert (figures["weights_loaded"], figures["weights_fresh"]) == (same["weights_loaded"] - 2, 2)


def test_zero_epochs_score_the_published_weights_as_they_are(config, tmp_path):
    """The full profile's baselines (``epochs: 0`` with weights): the published model is scored, not
    trained: its tensors are saved unchanged and train.json has its top-1."""
    import numpy as np
    import paddle

    from stages.zoo.cls import models

    arch = json.loads(config.read_text())["arch"]
    paddle.seed(3)
    published = models.build(arch).state_dict()
    paddle.save(published, str(tmp_path / "published.pdparams"))
    cfg = _with(config, tmp_path / "cfg", run={"weights": str(tmp_path / "published.pdparams"), "epochs": 0})
    assert _train(cfg, tmp_path / "out") == 0
    saved = paddle.load(str(tmp_path / "out/train/model.pdparams"))
    assert all(np.array_equal(saved[k].numpy(), v.numpy()) for k, v in published.items())
    figures = json.loads((tmp_path / "out/metrics/train.json").read_text())
    assert figures["epochs"] == 0 and figures["weights_loaded"] == len(published) and 0 <= figures["top1"] <= 100


def test_train_reports_weights_it_cannot_read(config, tmp_path, capsys):
    import paddle  # noqa: F401  (paddle's first import prints an OMP_NUM_THREADS warning of its own)

    capsys.readouterr()
    bad = _with(config, tmp_path, run={"weights": str(tmp_path / "MobileNetV1_pretrained.tar")})
    assert _train(bad, tmp_path / "o") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "key 'run.weights'" in err[0] and "MobileNetV1_pretrained.tar" in err[0]
    assert not (tmp_path / "o" / "train").exists()


def test_paddleclas_weights_are_paddleclas_own_url_for_the_constructor(config, tmp_path, monkeypatch):
    import paddle.utils.download

    from stages.zoo.cls.models import published_weights

    assert _train(config, tmp_path / "a") == 0
    fetched = []
    monkeypatch.setattr(paddle.utils.download, "get_weights_path_from_url",
                        lambda url: fetched.append(url) or str(tmp_path / "a/train/model.pdparams"))
    assert _train(_with(config, tmp_path / "b", run={"weights": "paddleclas", "epochs": 1}), tmp_path / "b") == 0
    url = "https://paddle-imagenet-models-name.bj.bcebos.com/dygraph/legendary_models/MobileNetV1_x0_25_pretrained.pdparams"
    assert fetched == [url] and json.loads((tmp_path / "b/metrics/train.json").read_text())["weights"] == url
    assert published_weights({"name": "ResNet50_vd"}, "ssld").endswith("/ResNet50_vd_ssld_pretrained.pdparams")
    assert published_weights({"name": "MobileNetV2"}, None).endswith("/MobileNetV2_pretrained.pdparams")


def _static_archive(tensors: dict, archive: Path) -> Path:
    """``tensors`` (name -> array) as the seeds' old downloads: a .tar of a folder with one file per
    variable, written by the static graph's own ``save_vars``."""
    import tarfile

    import paddle

    folder = archive.parent / archive.name.split(".")[0]
    paddle.enable_static()
    try:
        program, scope, place = paddle.static.Program(), paddle.static.Scope(), paddle.CPUPlace()
        with paddle.static.scope_guard(scope):
            block = program.global_block()
            variables = [block.create_var(name=n, shape=a.shape, dtype=str(a.dtype), persistable=True)
                         for n, a in tensors.items()]
            for name, array in tensors.items():
                scope.var(name).get_tensor().set(array, place)
            paddle.static.save_vars(paddle.static.Executor(place), str(folder), program, vars=variables)
    finally:
        paddle.disable_static()
    with tarfile.open(archive, "w") as tar:
        tar.add(folder, arcname=folder.name)
    return archive


def test_a_static_graph_archive_loads_by_variable_name(tmp_path):
    """The seeds link .tar archives of the static graph (MobileNetV2_pretrained.tar): they load by
    variable name into PaddleClas' models that keep those names, and fit nothing else."""
    import numpy as np
    import paddle

    from stages.train import WeightsError, initialise
    from stages.zoo.cls import models

    arch = {"name": "MobileNetV2", "scale": 0.25, "classes": 10}
    paddle.seed(1)
    published = models.build(arch).state_dict()
    tensors = {t.name: t.numpy() for t in published.values()}
    assert {"conv1_1_weights", "conv2_1_dwise_bn_variance", "conv9_bn_offset", "fc10_offset"} <= set(tensors)  # 1.x names
    archive = _static_archive(tensors, tmp_path / "MobileNetV2_pretrained.tar")
    paddle.seed(2)
    model = models.build(arch)
    figures = initialise(model, str(archive))
    assert figures == {"weights": str(archive), "weights_loaded": len(published), "weights_fresh": 0}
    assert all(np.array_equal(model.state_dict()[k].numpy(), v.numpy()) for k, v in published.items())
    with pytest.raises(WeightsError, match="MobileNetV2_pretrained.tar"):
        initialise(models.build({"name": "MobileNetV1", "scale": 0.25, "classes": 10}), str(archive))
    (tmp_path / "broken.tar").write_bytes(archive.read_bytes()[:1000])  # a download cut short
    with pytest.raises(WeightsError, match="broken.tar cannot be read"):
        initialise(model, str(tmp_path / "broken.tar"))


def test_backbone_weights_load_into_the_backbone(tmp_path):
    """ppdet and PaddleSeg publish ImageNet weights of a backbone alone (keys without ``backbone.``)."""
    import paddle

    from stages.train import initialise

    class Detector(paddle.nn.Layer):
        def __init__(self):
            super().__init__()
            self.backbone, self.head = paddle.nn.Linear(4, 3), paddle.nn.Linear(3, 2)

    paddle.save(paddle.nn.Linear(4, 3).state_dict(), str(tmp_path / "backbone.pdparams"))
    figures = initialise(Detector(), str(tmp_path / "backbone.pdparams"))
    assert (figures["weights_loaded"], figures["weights_fresh"]) == (2, 2)


def test_a_paddleseg_backbone_archive_loads_its_model_pdparams(tmp_path):
    """PaddleSeg publishes backbones as .tar.gz archives of one folder holding model.pdparams
    (hrnet_w18_ssld.tar.gz): the folder's model.pdparams loads, as a backbone alone."""
    import shutil

    import numpy as np
    import paddle

    from stages.train import initialise

    class Segmenter(paddle.nn.Layer):
        def __init__(self):
            super().__init__()
            self.backbone, self.head = paddle.nn.Linear(4, 3), paddle.nn.Linear(3, 2)

    published = paddle.nn.Linear(4, 3)
    (tmp_path / "pack" / "hrnet_w18_ssld").mkdir(parents=True)
    paddle.save(published.state_dict(), str(tmp_path / "pack" / "hrnet_w18_ssld" / "model.pdparams"))
    archive = shutil.make_archive(str(tmp_path / "hrnet_w18_ssld"), "gztar", tmp_path / "pack")
    model = Segmenter()
    figures = initialise(model, archive)
    assert (figures["weights_loaded"], figures["weights_fresh"]) == (2, 2)
    assert np.array_equal(model.backbone.weight.numpy(), published.weight.numpy())
