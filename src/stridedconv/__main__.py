"""``python -m stridedconv``: the command line (see `stridedconv.cli`)."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
