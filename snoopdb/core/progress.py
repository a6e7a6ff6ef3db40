"""Progress bars on a terminal; silence when stderr is not one."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm


class _Bar(tqdm):
    """tqdm that always shows its last step: tqdm draws at most every 0.1 s, so the
    update that completes the work was often never drawn, and the bar showed 98 % for
    as long as the work after it took."""

    def update(self, n: float | None = 1) -> bool | None:
        shown = super().update(n)
        if self.total is not None and self.n >= self.total and not self.disable:
            self.refresh()
        return shown


def bar(total: float | None = None, desc: str = "", unit: str = "it", **kwargs: Any) -> tqdm:
    """A tqdm bar on stderr, disabled unless stderr is a terminal. Its total is to be the
    whole work: a step the caller does after the last update is part of the total."""
    return _Bar(
        total=total, desc=desc, unit=unit, file=sys.stderr,
        disable=not sys.stderr.isatty(), leave=False, dynamic_ncols=True, **kwargs,
    )
