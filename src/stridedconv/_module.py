"""`set_module`: public names say where users import them from, as NumPy's do."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T", bound=Callable[..., object])


def set_module(module: str) -> Callable[[T], T]:
    """A decorator that sets ``__module__`` to `module`, so that ``help()``, tracebacks'
    reprs and the docs show ``stridedconv.conv``, not the private module it lives in.

    Examples
    --------
    >>> @set_module("stridedconv")
    ... def f() -> None: ...
    >>> f.__module__
    'stridedconv'
    """

    def decorate(function: T) -> T:
        function.__module__ = module
        return function

    return decorate
