"""Finding the learner's functions: files named as in the course, folders of them, and
``file.py:function`` mapped to one of the eleven names with ``--as``.

Examples
--------
>>> name_of_file("5-convolve.py")
'convolve'
>>> name_of_file("2-conv_backward.py")
'conv_backward'
>>> name_of_file("notes.py") is None
True
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ._runner import Source
from ._specs import SPECS

NAMES = tuple(SPECS)


class TargetError(ValueError):
    """A path or ``--as`` that names no learner function: a usage error."""


def name_of_file(filename: str) -> str | None:
    """Which of the eleven functions a course file name (``N-name.py``) holds, or None."""
    match = re.fullmatch(r"\d+-(\w+)\.py", Path(filename).name)
    if match is None or match.group(1) not in SPECS:
        return None
    return match.group(1)


def _file_target(text: str, name: str | None) -> tuple[str, Source]:
    path_text, _, function = text.partition(":") if text.count(":") else (text, "", "")
    path = Path(path_text)
    if not path.is_file():
        msg = f"{path_text}: no such file"
        raise TargetError(msg)
    if name is None:
        name = name_of_file(path.name)
        if name is None:
            msg = (
                f"{path.name}: not a course file name (0-convolve_grayscale_valid.py ... "
                "6-pool.py, 0-conv_forward.py ... 3-pool_backward.py); name its function "
                "with --as NAME"
            )
            raise TargetError(msg)
    return name, Source("path", str(path.resolve()), function or name)


def find_targets(paths: Sequence[str], mapped: Sequence[str] = ()) -> dict[str, Source]:
    """The functions to check, by name: course files in `paths` (files or folders) and the
    ``file.py[:function]=NAME`` of `mapped`.

    Raises
    ------
    TargetError
        For a path that does not exist, a file whose name is not a course file name, a
        folder with none, an unknown NAME, and two files for one function.
    """
    targets: dict[str, Source] = {}

    def add(name: str, source: Source) -> None:
        if name in targets and targets[name] != source:
            msg = f"two files for {name}: {targets[name].describe()} and {source.describe()}"
            raise TargetError(msg)
        targets[name] = source

    for text in paths:
        path = Path(text)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if name_of_file(p.name))
            if not found:
                msg = f"{text}: a folder without course files (such as 5-convolve.py)"
                raise TargetError(msg)
            for file in found:
                add(*_file_target(str(file), None))
        else:
            add(*_file_target(text, None))
    for text in mapped:
        where, _, name = text.rpartition("=")
        if not where or name not in SPECS:
            msg = (
                f"--as must be FILE.py[:FUNCTION]=NAME with NAME one of {', '.join(NAMES)}, "
                f"got {text!r}"
            )
            raise TargetError(msg)
        add(*_file_target(where, name))
    return dict(sorted(targets.items(), key=lambda item: NAMES.index(item[0])))


def source_of(function: Callable[..., Any] | str | Path) -> Source:
    """Where a function given to `stridedconv.check` lives: its file when it is a module's
    (so the child imports it again), else its source text (a notebook cell)."""
    if isinstance(function, str | Path):
        text = str(function)
        path, _, name = text.partition(":")
        if not Path(path).is_file():
            msg = f"function must be a callable or a 'file.py[:name]', got {text!r}"
            raise TargetError(msg)
        return Source("path", str(Path(path).resolve()), name or (name_of_file(path) or ""))
    given: object = function  # checked as what a caller may pass, not as the type says
    if not callable(given):
        msg = f"function must be a callable or a 'file.py[:name]', got {function!r}"
        raise TypeError(msg)
    name = getattr(function, "__name__", "")
    module = inspect.getmodule(function)
    file = getattr(module, "__file__", None)
    if module is not None and module.__name__ != "__main__" and file and name != "<lambda>":
        return Source("path", str(Path(file).resolve()), name)
    try:
        text = inspect.getsource(function)
    except (OSError, TypeError) as error:
        msg = f"cannot get the source of {function!r} to run it in a child process: {error}"
        raise TargetError(msg) from None
    import textwrap

    return Source("text", textwrap.dedent(text), name)
