"""Loaders: the hand-written fixtures under tests/fixtures/ and the embedded data read back as written."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from stages.zoo.datasets import ClsSample, DatasetError, DetSample, SegSample, load
from stages.zoo.datasets import cityscapes, voc

FIXTURES = Path(__file__).parent / "fixtures"


def test_imagenet_fixture():
    train, val = load("imagenet", FIXTURES / "imagenet", "train"), load("imagenet", FIXTURES / "imagenet", "val")
    assert train.samples == (ClsSample("train/n01440764/n01440764_10026.JPEG", 0),
                             ClsSample("train/n01443537/n01443537_2.JPEG", 1))
    assert val.samples == (ClsSample("val/ILSVRC2012_val_00000001.JPEG", 1),
                           ClsSample("val/ILSVRC2012_val_00000002.JPEG", 0))
    assert train.classes == ("tench, Tinca tinca", "goldfish, Carassius auratus")


def test_coco_fixture():
    val = load("coco", FIXTURES / "coco", "val")
    assert val.classes == ("person", "dog")  # categories sorted by id: 1, 18
    assert val.samples == (  # images by id; the zero-width box is dropped; crowd RLE has no polygon
        DetSample("val2017/000000000139.jpg", 64, 48,
                  boxes=((10.5, 4.0, 22.5, 34.25), (40.0, 20.0, 60.0, 40.0)), labels=(0, 1), ignore=(False, True),
                  polygons=(((10.5, 4.0, 22.5, 4.0, 16.0, 34.25), (30.0, 30.0, 34.0, 30.0, 34.0, 34.0)), ())),
        DetSample("val2017/000000000285.jpg", 48, 64, boxes=((0.0, 0.0, 48.0, 64.0),), labels=(1,),
                  ignore=(False,), polygons=(((0.0, 0.0, 48.0, 0.0, 48.0, 64.0, 0.0, 64.0),),)),
    )
    assert load("coco", FIXTURES / "coco", "train").samples[0].labels == (1,)


def test_voc_fixture():
    train = load("voc", FIXTURES / "voc", "train")  # VOC2007 + VOC2012 trainval
    chair, horse = voc.VOC_CLASSES.index("chair"), voc.VOC_CLASSES.index("horse")
    assert train.samples == (
        DetSample("VOCdevkit/VOC2007/JPEGImages/000005.jpg", 50, 40,
                  boxes=((3.0, 4.0, 20.0, 30.0), (25.0, 10.0, 49.0, 39.0)), labels=(chair, chair),
                  ignore=(False, True)),
        DetSample("VOCdevkit/VOC2012/JPEGImages/2008_000008.jpg", 40, 50,
                  boxes=((1.0, 2.0, 39.0, 49.0),), labels=(horse,), ignore=(False,)),
    )
    val = load("voc", FIXTURES / "voc", "val")  # VOC2007 test only
    assert [s.labels for s in val.samples] == [(voc.VOC_CLASSES.index("dog"), voc.VOC_CLASSES.index("person"))]


def test_widerface_fixture():
    train = load("widerface", FIXTURES / "widerface", "train")
    assert train.samples == (DetSample("WIDER_train/images/0--Parade/0_Parade_marchingband_1_849.jpg", 80, 60,
                                       boxes=((44.0, 33.0, 56.0, 47.0),), labels=(0,), ignore=(False,)),)
    val = load("widerface", FIXTURES / "widerface", "val")
    assert val.classes == ("face",)
    assert val.samples == (
        DetSample("WIDER_val/images/0--Parade/0_Parade_marchingband_1_465.jpg", 96, 64,
                  boxes=((2.0, 3.0, 32.0, 43.0), (50.0, 10.0, 66.0, 30.0), (80.0, 50.0, 86.0, 58.0)),
                  labels=(0, 0, 0), ignore=(False, False, True),
                  subsets={"easy": (0,), "medium": (0, 1), "hard": (0, 1)}),
        DetSample("WIDER_val/images/1--Handshaking/1_Handshaking_Handshaking_1_35.jpg", 64, 64,
                  boxes=(), labels=(), ignore=(), subsets={"easy": (), "medium": (), "hard": ()}),
    )


def test_cityscapes_fixture():
    val = load("cityscapes", FIXTURES / "cityscapes", "val")
    assert val.samples == (SegSample("leftImg8bit/val/frankfurt/frankfurt_000000_000294_leftImg8bit.png",
                                     "gtFine/val/frankfurt/frankfurt_000000_000294_gtFine_labelTrainIds.png"),)
    assert val.classes == cityscapes.CITYSCAPES_CLASSES and val.ignore_index == 255


# --- the embedded data: what the builder wrote is what the loader reads ---------------------------


def test_embedded_reads_back(embedded):
    for name, (fmt, records) in embedded["records"].items():
        root = embedded["root"] / name
        datasets = {"imagenet": ["imagenet"], "coco_voc": ["coco"], "widerface": ["widerface"],
                    "cityscapes": ["cityscapes"]}[fmt]
        for dataset in datasets:
            path = root / "coco" if dataset == "coco" else root
            for split in ("train", "val"):
                assert load(dataset, path, split).samples == tuple(records[split]), (name, dataset, split)


def test_embedded_coco_and_voc_hold_the_same_objects(embedded):
    root = embedded["root"] / "det"
    for split in ("train", "val"):
        coco_set, voc_set = load("coco", root / "coco", split), load("voc", root / "voc", split)
        assert coco_set.classes == voc_set.classes
        strip = lambda s: dataclasses.replace(s, image=Path(s.image).stem, polygons=())  # noqa: E731
        assert [strip(s) for s in coco_set.samples] == [strip(s) for s in voc_set.samples]


@pytest.mark.parametrize("name", ["cls", "det", "face", "seg"])
def test_embedded_build_is_deterministic(embedded, tmp_path, name):
    from stages.zoo.embedded.build import BUILDERS

    synth = embedded["params"].datasets[name]
    BUILDERS[synth.format](tmp_path, name, synth, embedded["pools"], embedded["params"].seed)
    first = embedded["root"] / name
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert [f for f in files if (first / f).read_bytes() != (tmp_path / f).read_bytes()] == []


def test_tiny_profiles_point_at_embedded_data(registry):
    from stages.zoo.embedded.params import load_data_params

    params = load_data_params(Path(registry.root) / "data.yaml")
    layout = {"imagenet": ("imagenet", "cifar10"), "widerface": ("widerface",), "cityscapes": ("cityscapes",)}
    for task, family in registry.defaults.items():
        for dataset, path in family.profiles["tiny"].data.items():
            parts = Path(path).parts
            assert parts[0] == "data" and parts[1] in params.datasets, (task, dataset, path)
            fmt = params.datasets[parts[1]].format
            if fmt == "coco_voc":
                assert dataset in ("coco", "voc") and parts[2:] == (dataset,), (task, dataset, path)
            else:
                assert dataset in layout[fmt] and len(parts) == 2, (task, dataset, path)


# --- errors: one line naming the path and what was expected ------------------------------------------


@pytest.mark.parametrize("dataset, breaks, expect", [
    ("imagenet", lambda r: (r / "val_list.txt").unlink(), "val_list.txt: missing"),
    ("imagenet", lambda r: (r / "val_list.txt").write_text("val/x.JPEG one\n"), "val_list.txt:1: expected"),
    ("imagenet", lambda r: (r / "val/ILSVRC2012_val_00000001.JPEG").unlink(), "missing image"),
    ("coco", lambda r: (r / "annotations/instances_val2017.json").write_text("{oops"), "not valid JSON"),
    ("coco", lambda r: (r / "annotations/instances_val2017.json").write_text('{"images": []}'), "missing key"),
    ("coco", lambda r: (r / "val2017/000000000285.jpg").unlink(), "000000000285.jpg: missing image"),
    ("voc", lambda r: (r / "VOCdevkit/VOC2007/ImageSets/Main/test.txt").unlink(), "test.txt: missing"),
    ("voc", lambda r: (r / "VOCdevkit/VOC2007/Annotations/000001.xml").write_text("<annotation>"),
     "000001.xml: missing or not valid VOC xml"),
    ("voc", lambda r: shutil.rmtree(r / "VOCdevkit"), "no VOC2007/VOC2012 folder"),
    ("widerface", lambda r: (r / "eval_tools/ground_truth/wider_easy_val.mat").unlink(),
     "wider_easy_val.mat: missing"),
    ("widerface", lambda r: (r / "wider_face_split/wider_face_val_bbx_gt.txt").write_text("a.jpg\n1\n1 2\n"),
     "wider_face_val_bbx_gt.txt:3: expected"),
    ("cityscapes", lambda r: shutil.rmtree(r / "gtFine"), "labelTrainIds.png: missing train-id label image"),
    ("cityscapes", lambda r: shutil.rmtree(r / "leftImg8bit"), "no <city>/*_leftImg8bit.png images"),
])
def test_malformed_dataset_gives_one_line(tmp_path, dataset, breaks, expect):
    root = tmp_path / dataset
    shutil.copytree(FIXTURES / dataset, root)
    breaks(root)
    with pytest.raises(DatasetError) as err:
        load(dataset, root, "val")
    message = str(err.value)
    assert expect in message and "\n" not in message and str(tmp_path) in message


def test_missing_directory(tmp_path):
    with pytest.raises(DatasetError, match="no such directory"):
        load("coco", tmp_path / "nowhere", "val")
