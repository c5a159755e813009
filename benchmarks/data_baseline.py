"""How hard is the embedded classification set? Class balance and two quick baselines.

    python -m benchmarks.data_baseline [--data data/cls] [--epochs 8] [--out benchmarks/results/data_baseline.json]

Baselines: logistic regression on raw pixels (scikit-learn), and a small 3-block CNN (Paddle, Adam,
``--epochs`` epochs, batch 64, seed 0). The zoo's baselines should land well below 100% top-1, so that
a compression method's change is visible.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np

from stages.zoo import runtime


def _arrays(data: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    from stages.zoo.datasets import load
    from stages.zoo.datasets.images import read_image

    ds = load("imagenet", data, split)
    x = np.stack([read_image(ds.path(s.image))[..., ::-1] for s in ds.samples]).astype(np.float32) / 255
    return x, np.array([s.label for s in ds.samples])


def logistic(xtr, ytr, xva, yva) -> float:
    """Top-1 (%) of multinomial logistic regression on standardised raw pixels."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scale = StandardScaler().fit(xtr.reshape(len(xtr), -1))
    model = LogisticRegression(max_iter=100).fit(scale.transform(xtr.reshape(len(xtr), -1)), ytr)
    return float((model.predict(scale.transform(xva.reshape(len(xva), -1))) == yva).mean() * 100)


def cnn(xtr, ytr, xva, yva, epochs: int) -> list[float]:
    """Val top-1 (%) after each epoch of a small CNN."""
    import paddle
    from paddle import nn

    paddle.seed(0)
    block = lambda i, o: [nn.Conv2D(i, o, 3, padding=1), nn.BatchNorm2D(o), nn.ReLU(), nn.MaxPool2D(2)]  # noqa: E731
    model = nn.Sequential(*block(3, 32), *block(32, 64), *block(64, 128), nn.Flatten(), nn.Linear(128 * 16, 10))
    opt = paddle.optimizer.Adam(learning_rate=1e-3, parameters=model.parameters())
    xtr_t, xva_t = paddle.to_tensor(xtr.transpose(0, 3, 1, 2)), paddle.to_tensor(xva.transpose(0, 3, 1, 2))
    rng, curve = np.random.default_rng(0), []
    for _ in range(epochs):
        model.train()
        for idx in np.array_split(rng.permutation(len(xtr)), len(xtr) // 64):
            loss = nn.functional.cross_entropy(model(xtr_t[idx]), paddle.to_tensor(ytr[idx]))
            loss.backward()
            opt.step()
            opt.clear_grad()
        model.eval()
        with paddle.no_grad():
            pred = model(xva_t).argmax(1).numpy()
        curve.append(float((pred == yva).mean() * 100))
    return curve


def main() -> None:
    """Measure and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data/cls"))
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/data_baseline.json"))
    args = parser.parse_args()
    runtime.setup(threads=2)
    (xtr, ytr), (xva, yva) = _arrays(args.data, "train"), _arrays(args.data, "val")
    start = time.perf_counter()
    report = {
        "train_per_class": dict(sorted(Counter(ytr.tolist()).items())),
        "val_per_class": dict(sorted(Counter(yva.tolist()).items())),
        "logistic_top1": logistic(xtr, ytr, xva, yva),
        "cnn_top1_per_epoch": cnn(xtr, ytr, xva, yva, args.epochs),
    }
    report["seconds"] = time.perf_counter() - start
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
