"""The first-run demo end to end: figures written, shapes printed as the exercise prints them."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

Image = pytest.importorskip("PIL.Image", reason="needs the 'demo' extra")
pytest.importorskip("matplotlib", reason="needs the 'demo' extra")
pytest.importorskip("skimage", reason="needs the 'demo' extra")

from stridedconv import demo  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FIGURES = [
    "0-convolve_grayscale_valid.png",
    "1-convolve_grayscale_same.png",
    "2-convolve_grayscale_padding.png",
    "3-convolve_grayscale.png",
    "4-convolve_channels.png",
    "5-convolve.png",
    "6-pool.png",
    "overview.png",
]


def expected_shapes(gray: int, rgb: int, size: int = 28, side: int = 32) -> list[tuple[int, ...]]:
    """The seed's printed shapes, input then output, for each of the seven scenarios."""
    g, r = (gray, size, size), (rgb, side, side, 3)
    return [
        g, (gray, size - 2, size - 2),
        g, g,
        g, (gray, size + 4 - 2, size + 8 - 2),
        g, (gray, (size - 3) // 2 + 1, (size - 3) // 2 + 1),
        r, (rgb, side - 2, side - 2),
        r, (rgb, side - 2, side - 2, 3),
        r, (rgb, side // 2, side // 2, 3),
    ]  # fmt: skip


def printed_shapes(stdout: str) -> list[tuple[int, ...]]:
    """The lines that are exactly a printed tuple, as ``print(array.shape)`` writes it."""
    shapes = []
    for line in stdout.splitlines():
        if line.startswith("(") and line.endswith(")"):
            value = ast.literal_eval(line)
            assert line == str(value)
            shapes.append(value)
    return shapes


def assert_figures(folder: Path) -> None:
    assert sorted(p.name for p in folder.iterdir()) == sorted(FIGURES)
    for name in FIGURES:
        path = folder / name
        assert path.read_bytes()[:8] == PNG_SIGNATURE
        with Image.open(path) as picture:
            picture.verify()
        with Image.open(path) as picture:
            assert picture.format == "PNG"
            width, height = picture.size
            assert width > 300
            assert height > 150


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stridedconv", "demo", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        check=False,
    )


def test_the_demo_on_the_bundled_photographs(tmp_path: Path) -> None:
    done = run(cwd=tmp_path)  # the default folder, ./stridedconv-demo
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    gray, rgb = len(demo.sample_grayscale().images), len(demo.sample_rgb().images)
    assert gray > 1000
    assert rgb > 1000
    assert printed_shapes(done.stdout) == expected_shapes(gray, rgb)
    assert_figures(tmp_path / "stridedconv-demo")
    assert "wrote 8 figures" in done.stdout


def test_the_demo_on_the_users_npz_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    mnist, animals = tmp_path / "MNIST.npz", tmp_path / "animals_1.npz"
    np.savez(mnist, X_train=rng.random((5, 28, 28)), other=np.zeros(3))
    np.savez(animals, data=rng.integers(0, 256, size=(70, 32, 32, 3), dtype=np.uint8))
    out = tmp_path / "figures"
    done = run("--mnist", mnist, "--animals", animals, "--out", out, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert printed_shapes(done.stdout) == expected_shapes(5, 70)
    assert_figures(out)


def test_a_bad_npz_file_is_one_line(tmp_path: Path) -> None:
    mnist = tmp_path / "MNIST.npz"
    np.savez(mnist, images=np.zeros((2, 28, 28)))
    done = run("--mnist", mnist, "--out", tmp_path / "o", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        f"stridedconv demo: error: {mnist} has no array 'X_train' (its arrays: 'images')\n"
    )


def test_run_returns_the_figures(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    mnist, animals = tmp_path / "m.npz", tmp_path / "a.npz"
    np.savez(mnist, X_train=rng.integers(0, 256, size=(3, 12, 12), dtype=np.uint8))
    np.savez(animals, data=rng.random((2, 10, 10, 3)).astype(np.float32))
    lines: list[str] = []

    class Stream:
        def write(self, text: str) -> int:
            lines.append(text)
            return len(text)

        def flush(self) -> None:
            pass

    written = demo.run(tmp_path / "o", mnist=mnist, animals=animals, stream=Stream())  # type: ignore[arg-type]
    assert [p.name for p in written] == FIGURES
    assert printed_shapes("".join(lines)) == expected_shapes(3, 2, size=12, side=10)


@pytest.mark.parametrize(
    ("arrays", "key", "layout", "words"),
    [
        ({"X_train": np.zeros((2, 28))}, "X_train", "(m, h, w)", "must be 3-D numbers"),
        ({"data": np.zeros((2, 8, 8))}, "data", "(m, h, w, c)", "of shape (2, 8, 8)"),
        ({"data": np.array(["a"])}, "data", "(m, h, w, c)", "got <U1"),
    ],
)
def test_load_npz_names_the_problem(
    tmp_path: Path, arrays: dict[str, np.ndarray], key: str, layout: str, words: str
) -> None:
    path = tmp_path / "x.npz"
    np.savez(path, **arrays)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        demo.load_npz(path, key, layout)


def test_load_npz_rejects_other_files(tmp_path: Path) -> None:
    path = tmp_path / "x.npz"
    path.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"cannot read .* as an \.npz archive: it is not a NumPy"):
        demo.load_npz(path, "data", "(m, h, w, c)")
    np.save(tmp_path / "x.npy", np.zeros((2, 8, 8, 3)))
    with pytest.raises(ValueError, match=r"x\.npy is a \.npy file, not an \.npz archive"):
        demo.load_npz(tmp_path / "x.npy", "data", "(m, h, w, c)")


def test_cut_tiles_in_reading_order() -> None:
    photo = np.arange(5 * 7 * 3).reshape(5, 7, 3)
    tiles = demo.cut_tiles(photo, 2)
    assert tiles.shape == (6, 2, 2, 3)
    np.testing.assert_array_equal(tiles[4], photo[2:4, 2:4])
