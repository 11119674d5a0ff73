"""The command line, run as ``python -m stridedconv`` in a subprocess on small generated images."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pytest

Image = pytest.importorskip("PIL.Image", reason="needs the 'demo' extra")
pytest.importorskip("tqdm", reason="needs the 'demo' extra")

import stridedconv as sc  # noqa: E402
from stridedconv import cli, kernels  # noqa: E402
from stridedconv.cli import _commands, _images  # noqa: E402

RNG = np.random.default_rng(7)
GRAY = RNG.integers(0, 256, size=(20, 30), dtype=np.uint8)
RGB = RNG.integers(0, 256, size=(18, 24, 3), dtype=np.uint8)


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stridedconv", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
    )


def save(folder: Path, name: str, pixels: np.ndarray) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    Image.fromarray(pixels).save(path)
    return path


def decoded(path: Path) -> np.ndarray:
    """The pixels Pillow decodes from `path` (JPEG is lossy: compare with these)."""
    with Image.open(path) as image:
        return np.array(image)


def assert_one_line_errors(stderr: str) -> None:
    assert "Traceback" not in stderr
    for line in stderr.splitlines():
        assert line.startswith("stridedconv"), line


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with grayscale and RGB images, as PNG and JPEG."""
    folder = tmp_path_factory.mktemp("inputs")
    save(folder, "gray.png", GRAY)
    save(folder, "rgb.png", RGB)
    save(folder, "gray_jpeg.jpg", GRAY)
    save(folder, "rgb_jpeg.JPEG", RGB)
    return folder


def test_filter_a_folder_raw_equals_the_library(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run("filter", inputs, "--kernel", "sobel_x", "--out", out, "--raw")
    assert done.returncode == 0, done.stderr
    assert_one_line_errors(done.stderr)
    assert "wrote 4 of 4 images" in done.stdout
    kernel = kernels.sobel_x()
    for source in sorted(inputs.iterdir()):
        pixels = decoded(source)
        raw = np.load(out / f"{source.stem}.npy")
        # Every channel alone, the border mirrored (correlate's default).
        channel_axis = None if pixels.ndim == 2 else -1
        expected = sc.correlate(pixels[None], kernel, channel_axis=channel_axis)[0]
        assert raw.dtype == np.float64
        np.testing.assert_array_equal(raw, expected)
        with Image.open(out / f"{source.stem}.png") as picture:
            assert picture.format == "PNG"
            assert picture.mode == ("L" if pixels.ndim == 2 else "RGB")
            shown = np.array(picture)
        assert shown.shape == expected.shape
        np.testing.assert_array_equal(shown, cli.to_uint8(expected))
        # Signed results are stretched over the full 8 bits.
        assert shown.min() == 0
        assert shown.max() == 255


def test_filter_stride_padding_and_a_npy_kernel(tmp_path: Path) -> None:
    rgb = save(tmp_path / "in", "rgb.png", RGB)
    bank = tmp_path / "bank.npy"
    np.save(bank, RNG.integers(-3, 4, size=(3, 2, 3, 3)))
    out = tmp_path / "out"
    args = ("--stride", "2,1", "--padding", "1,2", "--out", out, "--raw")
    done = run("filter", rgb, "--kernel", bank, *args)
    assert done.returncode == 0, done.stderr
    expected = sc.conv(
        RGB[None], np.load(bank), padding=(1, 2), stride=(2, 1), padding_mode="symmetric"
    )[0]
    raw = np.load(out / "rgb.npy")
    assert raw.dtype == np.int64  # integer images and kernels: exact integers
    np.testing.assert_array_equal(raw, expected)


def test_filter_with_a_channels_kernel_gives_grayscale(tmp_path: Path) -> None:
    rgb = save(tmp_path, "rgb.png", RGB)
    kernel = tmp_path / "k.npy"
    np.save(kernel, np.stack([kernels.sharpen()] * 3, axis=-1))
    done = run("filter", rgb, "--kernel", kernel, "--padding", "valid", "--out", tmp_path / "o")
    assert done.returncode == 0, done.stderr
    with Image.open(tmp_path / "o" / "rgb.png") as picture:
        assert picture.mode == "L"
        assert picture.size == (RGB.shape[1] - 2, RGB.shape[0] - 2)


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool_raw_equals_the_library(inputs: Path, tmp_path: Path, mode: str) -> None:
    files = [inputs / "gray.png", inputs / "rgb_jpeg.JPEG"]
    out = tmp_path / "pooled"
    done = run(
        "pool", *files, "--size", "3", "--stride", "2", "--mode", mode, "--out", out, "--raw"
    )
    assert done.returncode == 0, done.stderr
    for source in files:
        pixels = decoded(source)
        layered = pixels[None] if pixels.ndim == 3 else pixels[None, ..., None]
        expected = sc.pool(layered, (3, 3), (2, 2), mode=mode)[0]
        if pixels.ndim == 2:
            expected = expected[..., 0]
        raw = np.load(out / f"{source.stem}.npy")
        assert raw.dtype == expected.dtype
        np.testing.assert_array_equal(raw, expected)
        # Pooled 8-bit images stay in 0..255: written as they are, rounded.
        np.testing.assert_array_equal(decoded(out / f"{source.stem}.png"), np.rint(expected))


def test_pool_stride_defaults_to_the_size(tmp_path: Path) -> None:
    gray = save(tmp_path, "g.png", GRAY)
    done = run("pool", gray, "--size", "2", "--out", tmp_path / "o")
    assert done.returncode == 0, done.stderr
    assert decoded(tmp_path / "o" / "g.png").shape == (10, 15)


def test_a_corrupt_file_is_reported_and_the_others_are_written(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    save(folder, "a.png", GRAY)
    save(folder, "c.jpg", RGB)
    (folder / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not an image")
    (folder / "notes.txt").write_text("not an image, and not an image suffix either")
    out = tmp_path / "out"
    done = run("pool", folder, "--size", "2", "--out", out)
    assert done.returncode == 1
    assert_one_line_errors(done.stderr)
    errors = done.stderr.splitlines()
    assert len(errors) == 1
    assert "b.png" in errors[0]
    assert "cannot read the image" in errors[0]
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "c.png"]
    assert done.stdout == (
        f"pool: wrote 2 of 3 images to {out}/; 1 failed (see above); skipped 1 folder entry: "
        "no image file (-v lists it)\n"
    )


def test_missing_inputs_and_failed_images_are_told_apart(tmp_path: Path) -> None:
    gray = save(tmp_path, "g.png", GRAY)
    (tmp_path / "bad.png").write_bytes(b"not an image")
    out = tmp_path / "o"
    done = run("pool", gray, tmp_path / "bad.png", tmp_path / "nope", "--size", "2", "--out", out)
    assert done.returncode == 1
    assert done.stdout == (
        f"pool: wrote 1 of 2 images to {out}/; 1 failed, 1 input gave no image (see above)\n"
    )
    never = tmp_path / "never-made"
    done = run("pool", tmp_path / "nope", "--size", "2", "--out", never)
    assert done.returncode == 1
    # Nothing written: no claim about a folder that was never made.
    assert done.stdout == "pool: no image written; 1 input gave no image (see above)\n"
    assert not never.exists()


def test_a_missing_input_is_reported_and_the_others_are_written(tmp_path: Path) -> None:
    gray = save(tmp_path, "g.png", GRAY)
    done = run("filter", tmp_path / "nope.png", gray, "--kernel", "box:2", "--out", tmp_path / "o")
    assert done.returncode == 1
    assert "nope.png: no such file or folder" in done.stderr
    assert (tmp_path / "o" / "g.png").is_file()


def test_existing_outputs_are_kept_without_force(tmp_path: Path) -> None:
    gray = save(tmp_path / "in", "g.png", GRAY)
    rgb = save(tmp_path / "in", "c.png", RGB)
    out = tmp_path / "out"
    out.mkdir()
    (out / "g.png").write_bytes(b"mine")
    (out / "c.npy").write_bytes(b"mine too")
    done = run("filter", gray, rgb, "--kernel", "emboss", "--out", out, "--raw")
    assert done.returncode == 1
    assert_one_line_errors(done.stderr)
    assert "--force" in done.stderr
    assert (out / "g.png").read_bytes() == b"mine"
    assert (out / "c.npy").read_bytes() == b"mine too"
    assert not (out / "g.npy").exists()  # nothing of a refused input is written
    assert not (out / "c.png").exists()

    done = run("filter", gray, rgb, "--kernel", "emboss", "--out", out, "--raw", "--force")
    assert done.returncode == 0, done.stderr
    assert decoded(out / "g.png").shape == GRAY.shape
    assert np.load(out / "c.npy").shape == RGB.shape


def test_existing_outputs_are_named_in_one_line(tmp_path: Path) -> None:
    gray = save(tmp_path / "in", "g.png", GRAY)
    rgb = save(tmp_path / "in", "c.png", RGB)
    out = tmp_path / "out"
    out.mkdir()
    for name in ("g.png", "g.npy", "c.npy"):
        (out / name).write_bytes(b"mine")
    done = run("filter", gray, rgb, "--kernel", "box", "--out", out, "--raw")
    assert done.returncode == 1
    assert sorted(done.stderr.splitlines()) == [
        f"stridedconv filter: error: {rgb}: {out / 'c.npy'} already exists; use --force to "
        "replace it",
        f"stridedconv filter: error: {gray}: {out / 'g.png'} and {out / 'g.npy'} already exist; "
        "use --force to replace it",
    ]


def test_inputs_are_never_overwritten_even_with_force(tmp_path: Path) -> None:
    gray = save(tmp_path, "g.png", GRAY)
    before = gray.read_bytes()
    done = run("filter", "g.png", "--kernel", "sharpen", "--out", ".", "--force", cwd=tmp_path)
    assert done.returncode == 1
    assert "is an input" in done.stderr
    assert gray.read_bytes() == before


def test_two_inputs_with_one_output_name(tmp_path: Path) -> None:
    first = save(tmp_path / "a", "x.png", GRAY)
    second = save(tmp_path / "b", "x.jpg", RGB)
    done = run("pool", first, second, "--size", "2", "--out", tmp_path / "o")
    assert done.returncode == 1
    assert "would also be written for" in done.stderr
    assert decoded(tmp_path / "o" / "x.png").ndim == 2  # the first one's


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["filter", "x.png", "--kernel", "blur", "--out", "o"], "--kernel must be one of"),
        (["filter", "x.png", "--kernel", "gaussian:0", "--out", "o"], "size must be positive"),
        (["filter", "x.png", "--kernel", "missing.npy", "--out", "o"], "missing.npy: no such"),
        # Too large to allocate: MemoryError, told as a usage error that names --kernel.
        (
            ["filter", "x.png", "--kernel", "gaussian:100000000", "--out", "o"],
            "--kernel gaussian:100000000: size=100000000 asks for a float64 kernel",
        ),
        (["filter", "x.png", "--kernel", "box:100000000", "--out", "o"], "--kernel box:100000000"),
        (["filter", "x.png", "--kernel", "gaussian:5:1j", "--out", "o"], "sigma must be a"),
        (["filter", "x.png", "--kernel", "laplacian:yes", "--out", "o"], "4 or 8 neighbours"),
        (["filter", "x.png", "--kernel", "box", "--padding", "wide", "--out", "o"], "--padding"),
        (["pool", "x.png", "--size", "0", "--out", "o"], "argument --size: expected a positive"),
        (["pool", "x.png", "--out", "o"], "the following arguments are required: --size"),
        (["demo", "--mnist", "missing.npz"], "cannot read missing.npz"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_usage_errors_are_one_line(tmp_path: Path, args: list[str], words: str) -> None:
    done = run(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert_one_line_errors(done.stderr)
    assert words in done.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("command", [[], ["demo"], ["filter"], ["pool"]])
def test_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main([*command, "--help"])
    assert exit_.value.code == 0
    assert "usage: stridedconv" in capsys.readouterr().out


def test_help_through_the_console_entry_point() -> None:
    done = run("filter", "--help")
    assert done.returncode == 0
    assert "--kernel NAME|FILE.npy" in done.stdout


@pytest.mark.parametrize(
    ("args", "module"),
    [
        (["pool", "x.png", "--size", "2", "--out", "o"], "tqdm"),
        (["filter", "x.png", "--kernel", "box", "--out", "o"], "PIL"),
        (["demo", "--out", "o"], "matplotlib"),
    ],
)
def test_a_missing_extra_names_the_extra(
    args: list[str],
    module: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    assert cli.main(args) == 2
    assert capsys.readouterr().err == (
        f"stridedconv {args[0]} needs the 'demo' extra ({module} is not installed): "
        "pip install 'stridedconv[demo]'\n"
    )
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("sobel_x", kernels.sobel_x()),
        ("Sobel_Y", kernels.sobel_y()),
        ("prewitt:y", kernels.prewitt("y")),
        ("laplacian:8", kernels.laplacian(diagonals=True)),
        ("laplacian:4", kernels.laplacian()),
        ("box:5", kernels.box(5)),
        ("gaussian", kernels.gaussian()),
        ("gaussian:7:1.5", kernels.gaussian(7, 1.5)),
        ("sharpen", kernels.sharpen()),
        ("emboss", kernels.emboss()),
    ],
)
def test_kernel_specs(spec: str, expected: np.ndarray) -> None:
    np.testing.assert_array_equal(cli.kernel_from_spec(spec), expected)


def test_to_uint8_keeps_8_bit_ranges_and_stretches_others() -> None:
    np.testing.assert_array_equal(cli.to_uint8(np.array([0.0, 127.6, 255.0])), [0, 128, 255])
    np.testing.assert_array_equal(cli.to_uint8(np.array([-2.0, 0.0, 2.0])), [0, 128, 255])
    np.testing.assert_array_equal(cli.to_uint8(np.array([300.0, 300.0])), [255, 255])
    np.testing.assert_array_equal(cli.to_uint8(np.array([np.nan, 1.0])), [0, 1])


def test_read_image_modes(tmp_path: Path) -> None:
    rgba = np.dstack([RGB, np.full(RGB.shape[:2], 128, dtype=np.uint8)])
    path = save(tmp_path, "rgba.png", rgba)
    np.testing.assert_array_equal(cli.read_image(path), RGB)
    path = save(tmp_path, "g16.png", GRAY.astype(np.uint16) * 200)
    image = cli.read_image(path)
    assert image.ndim == 2
    np.testing.assert_array_equal(image, GRAY.astype(np.int64) * 200)


# --- issue 11: one line per error, never a traceback, nothing half-written ----------------------


def hidden_files(folder: Path) -> list[str]:
    """Temporary files left behind (they start with a dot)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_an_exact_result_beyond_int64_is_saved_as_python_ints(tmp_path: Path) -> None:
    gray = save(tmp_path / "in", "g.png", GRAY)
    kernel = tmp_path / "huge.npy"
    np.save(kernel, np.full((3, 3), 2**62, dtype=np.int64))
    out = tmp_path / "out"
    done = run("filter", gray, "--kernel", kernel, "--out", out, "--raw")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    expected = sc.correlate(GRAY[None], np.load(kernel), channel_axis=None)[0]
    assert expected.dtype == object  # the library's exact result: Python ints
    with pytest.raises(ValueError, match="allow_pickle"):
        np.load(out / "g.npy")
    raw = np.load(out / "g.npy", allow_pickle=True)
    assert raw.dtype == object
    assert raw.tolist() == expected.tolist()
    np.testing.assert_array_equal(decoded(out / "g.png"), cli.to_uint8(expected))
    assert hidden_files(out) == []


def test_raw_help_says_how_to_load_python_ints(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["filter", "--help"])
    assert "allow_pickle=True" in " ".join(capsys.readouterr().out.split())


def test_pool_raw_help_says_what_pooling_writes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["pool", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    raw = text[text.index("--raw ") : text.index("--force ")]
    assert "max and min keep the image's dtype (integers exactly)" in raw
    assert "sum gives exact int64 for integer images, avg floats" in raw
    assert "kernel" not in raw  # pooling has none


def test_a_failed_write_leaves_nothing_and_the_next_run_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    gray = save(tmp_path / "in", "g.png", GRAY)
    out = tmp_path / "out"
    real_save = np.save

    def save_half_then_fail(stream: BinaryIO, array: object, **options: object) -> None:
        stream.write(b"\x93NUMPY half a header")
        msg = "the disk broke"
        raise ValueError(msg)

    monkeypatch.setattr(np, "save", save_half_then_fail)
    args = ["filter", str(gray), "--kernel", "box", "--out", str(out), "--raw"]
    assert cli.main(args) == 1
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1
    assert "g.png: cannot write" in errors[0]
    assert "the disk broke" in errors[0]
    # Neither the .npy nor the PNG (complete, but half of the result) is there, nor a temporary.
    assert sorted(p.name for p in out.iterdir()) == []

    monkeypatch.setattr(np, "save", real_save)
    assert cli.main(args) == 0  # nothing blocks it: no --force needed
    assert np.load(out / "g.npy").shape == GRAY.shape
    assert hidden_files(out) == []


def test_an_output_that_appears_while_writing_is_kept(tmp_path: Path) -> None:
    picture, raw = tmp_path / "r.png", tmp_path / "r.npy"
    raw.write_bytes(b"someone else's")  # after the check, before the rename
    with pytest.raises(FileExistsError) as error:
        _images.write_result(np.ones((2, 2)), picture, raw, force=False)
    assert error.value.filename == str(raw)
    assert raw.read_bytes() == b"someone else's"
    assert hidden_files(tmp_path) == []
    _images.write_result(np.ones((2, 2)), picture, raw, force=True)
    np.testing.assert_array_equal(np.load(raw), np.ones((2, 2)))
    assert hidden_files(tmp_path) == []


def test_outputs_get_the_permissions_of_new_files(tmp_path: Path) -> None:
    # The temporary files must not keep a private mode (tempfile's 0o600) after the rename.
    _images.write_result(np.ones((2, 2)), tmp_path / "r.png", None, force=False)
    reference = tmp_path / "plain"
    reference.write_bytes(b"")
    assert (tmp_path / "r.png").stat().st_mode == reference.stat().st_mode


@pytest.mark.parametrize(
    ("sigma", "expected"),
    [
        pytest.param("1e-300", np.eye(1), id="1e-300"),
        pytest.param("1e300", kernels.box(5), id="1e300"),
        pytest.param(str(10**400), kernels.box(5), id="10**400"),
    ],
)
def test_extreme_sigmas_give_the_limit_kernels(
    tmp_path: Path, sigma: str, expected: np.ndarray
) -> None:
    gray = save(tmp_path, "g.png", GRAY)
    done = run("filter", gray, "--kernel", f"gaussian:5:{sigma}", "--out", tmp_path / "o", "--raw")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    raw = np.load(tmp_path / "o" / "g.npy")
    assert not np.isnan(raw).any()
    filtered = sc.correlate(GRAY[None], expected, channel_axis=None)[0]
    np.testing.assert_allclose(raw, filtered, rtol=1e-12)


@pytest.mark.parametrize("error", [MemoryError, OverflowError])
def test_a_kernel_that_cannot_be_computed_is_a_usage_error(
    error: type[Exception],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def fail(*args: object) -> np.ndarray:
        msg = "too large"
        raise error(msg)

    monkeypatch.setitem(cli.KERNEL_NAMES, "box", fail)
    gray = save(tmp_path, "g.png", GRAY)
    assert cli.main(["filter", str(gray), "--kernel", "box:9", "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err == "stridedconv filter: error: --kernel box:9: too large\n"
    assert not (tmp_path / "o").exists()


def locked_listing(monkeypatch: pytest.MonkeyPatch, locked: Path) -> None:
    """Make listing `locked` fail as a folder without read permission does (even for root)."""
    real_iterdir = Path.iterdir

    def iterdir(self: Path) -> Iterator[Path]:
        if self == locked:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
        yield from real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)


def test_an_unreadable_folder_is_reported_and_the_others_are_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = tmp_path / "locked"
    save(locked, "hidden.png", GRAY)
    readable = save(tmp_path / "open", "a.png", GRAY)
    gray = save(tmp_path, "g.png", RGB)
    locked_listing(monkeypatch, locked)
    out = tmp_path / "out"
    code = cli.main(
        ["pool", str(readable.parent), str(locked), str(gray), "--size", "2", "--out", str(out)]
    )
    assert code == 1
    captured = capsys.readouterr()
    assert_one_line_errors(captured.err)
    assert captured.err.splitlines() == [
        f"stridedconv pool: error: {locked}: cannot read it: Permission denied"
    ]
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "g.png"]
    # The folder is no image: two images, both written.
    assert (
        captured.out == f"pool: wrote 2 of 2 images to {out}/; 1 input gave no image (see above)\n"
    )


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any folder")
def test_a_folder_without_permissions_is_reported(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    save(locked, "hidden.png", GRAY)
    gray = save(tmp_path, "g.png", GRAY)
    locked.chmod(0)
    try:
        done = run("pool", locked, gray, "--size", "2", "--out", tmp_path / "o")
    finally:
        locked.chmod(0o755)
    assert done.returncode == 1
    assert_one_line_errors(done.stderr)
    assert "locked: cannot read it: Permission denied" in done.stderr
    assert (tmp_path / "o" / "g.png").is_file()


@pytest.mark.parametrize("stride", [str(10**12), str(2**70), f"1,{2**70}"])
@pytest.mark.parametrize("command", ["filter", "pool"])
def test_a_huge_stride_works_or_is_one_line(tmp_path: Path, stride: str, command: str) -> None:
    gray = save(tmp_path, "g.png", GRAY)
    options = ["--kernel", "box"] if command == "filter" else ["--size", "2"]
    done = run(command, gray, *options, "--stride", stride, "--out", tmp_path / "o")
    assert_one_line_errors(done.stderr)
    if done.returncode == 0:
        assert decoded(tmp_path / "o" / "g.png").shape[1] == 1  # one column of windows
    else:
        assert done.returncode == 1
        assert len(done.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    "options",
    [
        ["filter", "--kernel", "box", "--padding", str(10**12)],
        ["pool", "--size", str(2**70)],
    ],
)
def test_operation_errors_are_one_line_per_file(tmp_path: Path, options: list[str]) -> None:
    gray = save(tmp_path, "g.png", GRAY)
    done = run(options[0], gray, *options[1:], "--out", tmp_path / "o")
    assert done.returncode in (1, 2)
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert_one_line_errors(done.stderr)


def test_an_unexpected_error_in_one_file_spares_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first = save(tmp_path / "in", "a.png", GRAY)
    second = save(tmp_path / "in", "b.png", GRAY)
    real_read = _commands.read_image

    def read(path: Path) -> np.ndarray:
        if path.name == "a.png":
            msg = "a bug\non two lines"
            raise RuntimeError(msg)
        return real_read(path)

    monkeypatch.setattr(_commands, "read_image", read)
    out = tmp_path / "out"
    assert cli.main(["pool", str(first), str(second), "--size", "2", "--out", str(out)]) == 1
    errors = capsys.readouterr().err.splitlines()
    assert errors == [
        f"stridedconv pool: error: {first}: cannot read the image: RuntimeError: a bug on two lines"
    ]
    assert sorted(p.name for p in out.iterdir()) == ["b.png"]


def test_an_unexpected_error_outside_the_files_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def collect(*args: object) -> object:
        msg = "a bug"
        raise RuntimeError(msg)

    monkeypatch.setattr(_commands, "_collect", collect)
    gray = save(tmp_path, "g.png", GRAY)
    assert cli.main(["pool", str(gray), "--size", "2", "--out", str(tmp_path / "o")]) == 1
    assert capsys.readouterr().err == "stridedconv pool: error: RuntimeError: a bug\n"


def test_interrupting_still_stops_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def read(path: Path) -> np.ndarray:
        raise KeyboardInterrupt

    monkeypatch.setattr(_commands, "read_image", read)
    gray = save(tmp_path, "g.png", GRAY)
    assert cli.main(["pool", str(gray), "--size", "2", "--out", str(tmp_path / "o")]) == 130
    assert capsys.readouterr().err.endswith("stridedconv pool: interrupted\n")


def test_to_uint8_of_infinities_and_huge_ranges() -> None:
    # No warnings (errors under pytest): infinities and a range near float64's limits.
    values = np.array([-np.inf, -1e308, 0.0, 1e308, np.inf, np.nan])
    np.testing.assert_array_equal(cli.to_uint8(values), [0, 0, 128, 255, 255, 0])
    np.testing.assert_array_equal(cli.to_uint8(np.array([np.inf, np.nan])), [255, 0])


# --- boundary modes, colour images, pooling modes, skipped entries (issue #17) -----------


def test_the_default_mode_leaves_no_dark_frame_on_a_photo(tmp_path: Path) -> None:
    """scikit-image's `camera` blurred by gaussian:15:4: the border rows keep the brightness
    of the rows next to them (zero padding made row 0 average 109 against 198 ten rows in)."""
    data = pytest.importorskip("skimage.data")
    photo = save(tmp_path / "in", "camera.png", data.camera())
    out = tmp_path / "out"
    done = run("filter", photo, "--kernel", "gaussian:15:4", "--out", out, "--raw")
    assert done.returncode == 0, done.stderr
    raw = np.load(out / "camera.npy")
    for edge, inside in [(raw[0], raw[10]), (raw[-1], raw[-11]), (raw[:, 0], raw[:, 10])]:
        assert edge.mean() > 0.9 * inside.mean()
    zeros = run("filter", photo, "--kernel", "gaussian:15:4", "--padding-mode", "zeros",
                "--out", tmp_path / "zeros", "--raw")  # fmt: skip
    assert zeros.returncode == 0, zeros.stderr
    dark = np.load(tmp_path / "zeros" / "camera.npy")
    assert dark[0].mean() < 0.7 * dark[10].mean()  # the frame the default avoids


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular", "symmetric"])
def test_filter_padding_mode_is_the_library_s(tmp_path: Path, mode: str) -> None:
    rgb = save(tmp_path / "in", "rgb.png", RGB)
    out = tmp_path / "out"
    done = run("filter", rgb, "--kernel", "box:3", "--padding-mode", mode, "--out", out, "--raw")
    assert done.returncode == 0, done.stderr
    expected = sc.correlate(RGB[None], kernels.box(3), padding_mode=mode)[0]
    np.testing.assert_array_equal(np.load(out / "rgb.npy"), expected)


def test_filter_constant_mode_and_cval(tmp_path: Path) -> None:
    gray = save(tmp_path / "in", "g.png", GRAY)
    out = tmp_path / "out"
    bank = tmp_path / "ones.npy"
    np.save(bank, np.ones((3, 3), int))
    args = ("--padding-mode", "constant", "--cval", "7", "--out", out, "--raw")
    done = run("filter", gray, "--kernel", bank, *args)
    assert done.returncode == 0, done.stderr
    raw = np.load(out / "g.npy")
    assert raw.dtype == np.int64  # an int cval keeps integer images exact
    expected = sc.correlate(GRAY[None], np.ones((3, 3), int), channel_axis=None,
                            padding_mode="constant", cval=7)[0]  # fmt: skip
    np.testing.assert_array_equal(raw, expected)
    refused = run("filter", gray, "--kernel", "box", "--cval", "7", "--out", out)
    assert refused.returncode == 2
    assert "--cval 7 needs --padding-mode constant, got --padding-mode symmetric" in refused.stderr


def test_another_library_s_mode_name_is_answered_with_ours(tmp_path: Path) -> None:
    done = run("filter", "x.png", "--kernel", "box", "--padding-mode", "nearest", "--out", "o")
    assert done.returncode == 2
    assert "SciPy's 'nearest' is --padding-mode='replicate' here" in done.stderr


@pytest.mark.parametrize("mode", ["min", "sum"])
def test_pool_min_and_sum(tmp_path: Path, mode: str) -> None:
    rgb = save(tmp_path / "in", "rgb.png", RGB)
    out = tmp_path / "out"
    done = run("pool", rgb, "--size", "3", "--stride", "2", "--mode", mode, "--out", out, "--raw")
    assert done.returncode == 0, done.stderr
    expected = sc.pool(RGB[None], (3, 3), (2, 2), mode=mode)[0]
    raw = np.load(out / "rgb.npy")
    assert raw.dtype == expected.dtype
    np.testing.assert_array_equal(raw, expected)


def test_skipped_folder_entries_are_counted_and_listed(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    save(folder, "a.png", GRAY)
    (folder / "sub").mkdir()
    (folder / "notes.txt").write_text("not an image")
    out = tmp_path / "out"
    done = run("pool", folder, "--size", "2", "--out", out)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f"pool: wrote 1 of 1 image to {out}/; skipped 2 folder entries: no image files "
        "(-v lists them)\n"
    )
    assert done.stderr == ""
    listed = run("pool", folder, "--size", "2", "--out", out, "--force", "-v")
    assert listed.stderr.splitlines() == [
        f"pool: skipped {folder / 'notes.txt'} (not a .png/.jpg/.jpeg file)",
        f"pool: skipped {folder / 'sub'} (a folder)",
    ]


def test_a_channel_mismatch_speaks_of_the_image_s_shape(tmp_path: Path) -> None:
    gray = save(tmp_path / "in", "gray.png", np.zeros((30, 45), np.uint8))
    bank = tmp_path / "k.npy"
    np.save(bank, np.ones((3, 3, 3)))
    done = run("filter", gray, "--kernel", bank, "--out", tmp_path / "out")
    assert done.returncode == 1
    assert (
        "cannot process the (30, 45) image: the kernel of shape (3, 3, 3) is for images of "
        "3 channels (its axis 2), but this image of shape (30, 45) has 1 channel"
    ) in done.stderr
    assert "axis 3" not in done.stderr
