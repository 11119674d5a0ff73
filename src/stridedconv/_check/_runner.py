"""Running a learner's function in a child process.

Each function is loaded and called in its own child (a fresh interpreter running this file
as a script, which imports NumPy and nothing of stridedconv; nothing inherited but the
environment), with matplotlib on the ``Agg`` backend,
its standard output and error captured and capped, its standard input empty. The parent sends
one call at a time and waits at most a time limit for the answer; a child that crashes (even
with a segfault or ``os._exit``), hangs or cannot import the file becomes a `ChildFailure`
of one line, and the child is killed.

Examples
--------
>>> Source("path", "5-convolve.py", "convolve").describe()
'5-convolve.py:convolve'
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import pickle
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

#: Characters of standard output and error kept from one function (the rest is counted).
OUTPUT_CAP = 2000


@dataclass(frozen=True)
class Source:
    """Where a learner's function comes from: a file (``kind='path'``, `where` its path) or
    source text (``kind='text'``, from ``inspect.getsource``); `function` is its name."""

    kind: str
    where: str
    function: str

    def describe(self) -> str:
        if self.kind == "text":
            return f"<your {self.function}>"
        return f"{Path(self.where).name}:{self.function}"


class ChildFailure(Exception):
    """The child crashed, hung or could not load the function; the message is one line."""


@dataclass
class Outcome:
    """One call's outcome: its result or the exception it raised (one line), the names of the
    inputs it modified, its time in seconds."""

    result: Any = None
    raised: str | None = None
    modified: tuple[str, ...] = ()
    seconds: float = 0.0


class _Capped(io.TextIOBase):
    """A text stream that keeps the first `OUTPUT_CAP` characters and counts the rest."""

    def __init__(self) -> None:
        self.kept = io.StringIO()
        self.count = 0

    def write(self, text: str) -> int:
        if self.count < OUTPUT_CAP:
            self.kept.write(text[: OUTPUT_CAP - self.count])
        self.count += len(text)
        return len(text)

    def writable(self) -> bool:
        return True


def one_line(error: BaseException) -> str:
    """``Type: message`` on one line, shortened."""
    text = " ".join(str(error).split())
    line = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return line if len(line) <= 160 else line[:157] + "..."


def _load(source: Source) -> Any:
    if source.kind == "text":
        namespace: dict[str, Any] = {"np": np, "numpy": np, "__name__": "learner"}
        exec(compile(source.where, "<learner>", "exec"), namespace)
        return namespace[source.function]
    path = Path(source.where)
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        msg = f"cannot load {path.name} as a Python module"
        raise ImportError(msg)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    function = getattr(module, source.function, None)
    if not callable(function):
        msg = f"{path.name} defines no function {source.function}()"
        raise AttributeError(msg)
    return function


def _plain(value: Any) -> Any:
    """`value` as NumPy arrays (tuples of them), which the parent can unpickle."""
    if isinstance(value, tuple | list):
        return tuple(_plain(v) for v in value)
    if value is None:
        return None
    try:
        array = np.asarray(value)
    except Exception:
        return f"<{type(value).__name__}>"
    return array if array.dtype != object else f"<{type(value).__name__}>"


def _snapshot(values: tuple[Any, ...]) -> list[Any]:
    return [np.array(v, copy=True) if isinstance(v, np.ndarray) else None for v in values]


def _shows() -> int:
    """How many times the learner called ``plt.show()`` (matplotlib patched once imported)."""
    pyplot: Any = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return 0
    if not hasattr(pyplot.show, "calls"):

        def show(*args: Any, **kwargs: Any) -> None:
            show.calls += 1  # type: ignore[attr-defined]

        show.calls = 0  # type: ignore[attr-defined]
        pyplot.show = show
    pyplot.close("all")
    return int(pyplot.show.calls)


#: The activations ``conv_forward`` is given, sent by name: the child imports NumPy only.
ACTIVATIONS: dict[str, Any] = {"identity": lambda z: z, "relu": lambda z: np.maximum(z, 0)}
_ACTIVATION = "<activation>"


def _decode(value: Any) -> Any:
    if isinstance(value, tuple) and len(value) == 2 and value[0] == _ACTIVATION:
        return ACTIVATIONS[value[1]]
    return value


def _encode(value: Any) -> Any:
    return (_ACTIVATION, value.__name__) if callable(value) else value


def serve(conn: Connection, source: Source, names: tuple[str, ...]) -> None:  # pragma: no cover
    """The child's loop: load the function, then answer ``(args, kwargs)`` calls until None.

    Messages are plain tuples of builtins and arrays, so that the child needs nothing but
    NumPy (it runs this file as a script): a reply is ``('ok', (result, raised, modified,
    seconds))``; the last one, on None, is ``('output', text, count, shows)``.
    """
    os.environ["MPLBACKEND"] = "Agg"
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    captured = _Capped()
    sys.stdout = sys.stderr = captured
    try:
        function = _load(source)
    except BaseException as error:
        conn.send(("failed", f"cannot load it: {one_line(error)}"))
        return
    _shows()
    conn.send(("ready", None))
    while True:
        message = conn.recv()
        if message is None:
            conn.send(("output", captured.kept.getvalue(), captured.count, _shows()))
            return
        args = tuple(_decode(a) for a in message[0])
        kwargs = {key: _decode(value) for key, value in message[1].items()}
        before = _snapshot(args)
        outcome = Outcome()
        start = time.perf_counter()
        try:
            outcome.result = _plain(function(*args, **kwargs))
        except BaseException as error:  # SystemExit and KeyboardInterrupt too: one line
            outcome.raised = one_line(error)
            del error
        outcome.seconds = time.perf_counter() - start
        outcome.modified = tuple(
            names[i] if i < len(names) else f"argument {i}"
            for i, (old, new) in enumerate(zip(before, args, strict=True))
            if old is not None and not np.array_equal(old, new, equal_nan=True)
        )
        fields = (outcome.result, outcome.raised, outcome.modified, outcome.seconds)
        try:
            conn.send(("ok", fields))
        except Exception as error:  # an unpicklable result
            line = f"returned something unpicklable ({one_line(error)})"
            conn.send(("ok", (None, line, outcome.modified, outcome.seconds)))


class Worker:
    """A child process serving calls of one learner function: ``python -m
    stridedconv._check._runner FD`` with one end of a socket pair as its connection."""

    def __init__(self, source: Source, names: tuple[str, ...]) -> None:
        ours, theirs = socket.socketpair()
        env = dict(os.environ, MPLBACKEND="Agg")
        fd = theirs.fileno()
        self._process = subprocess.Popen(
            [sys.executable, __file__, str(fd)],
            pass_fds=(fd,),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        theirs.close()
        self._conn = Connection(ours.detach())
        self._conn.send(((source.kind, source.where, source.function), names))
        self._ready = False
        self.output = ""
        self.output_count = 0
        self.shows = 0

    def _receive(self, timeout: float, what: str) -> Any:
        if not self._conn.poll(timeout):
            self.kill()
            msg = f"{what} did not finish within {timeout:g} s (an endless loop?)"
            raise ChildFailure(msg)
        try:
            return self._conn.recv()
        except (EOFError, OSError, pickle.UnpicklingError, AttributeError, ImportError):
            try:
                code = self._process.wait(5)
            except subprocess.TimeoutExpired:
                code = None
            self.kill()
            how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            msg = f"the process died during {what} ({how}: a crash, os._exit or sys.exit)"
            raise ChildFailure(msg) from None

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Wait until the function is loaded; raise `ChildFailure` if it cannot be."""
        if self._ready:
            return
        kind, detail = self._receive(timeout, "loading the file")
        if kind != "ready":
            self.kill()
            raise ChildFailure(detail)
        self._ready = True

    def call(self, args: tuple[Any, ...], kwargs: dict[str, Any], timeout: float) -> Outcome:
        """One call of the function; raise `ChildFailure` on a crash or hang."""
        self.wait_ready()
        try:
            self._conn.send((tuple(map(_encode, args)), {k: _encode(v) for k, v in kwargs.items()}))
        except OSError:
            msg = "the process died before a call (a crash?)"
            raise ChildFailure(msg) from None
        _, (result, raised, modified, seconds) = self._receive(timeout, "a call")
        return Outcome(result, raised, tuple(modified), float(seconds))

    def close(self) -> None:
        """Collect the captured output and end the child."""
        if self._process.poll() is None and self._ready:
            with contextlib.suppress(OSError, ChildFailure, ValueError, EOFError):
                self._conn.send(None)
                _, self.output, self.output_count, self.shows = self._receive(5, "closing")
        self.kill()

    def kill(self) -> None:
        """End the child now (a no-op when it has ended)."""
        if self._process.poll() is None:
            self._process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(5)
        if not self._conn.closed:
            self._conn.close()


if __name__ == "__main__":  # pragma: no cover - the child, run as a script
    del sys.path[0]  # this folder: the learner's imports must not find the checker's modules
    _connection = Connection(int(sys.argv[1]))
    _where, _names = _connection.recv()
    serve(_connection, Source(*_where), _names)
