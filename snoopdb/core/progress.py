"""Progress bars on a terminal; silence when stderr is not one."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm


def bar(total: float | None = None, desc: str = "", unit: str = "it", **kwargs: Any) -> tqdm:
    """A tqdm bar on stderr, disabled unless stderr is a terminal."""
    return tqdm(
        total=total, desc=desc, unit=unit, file=sys.stderr,
        disable=not sys.stderr.isatty(), leave=False, dynamic_ncols=True, **kwargs,
    )
