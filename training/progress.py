"""The training loops' progress (stderr): a bar on a terminal; when stderr is not a terminal, one
line per 30 s or 10% of the steps, whichever is rarer (the torch-free class is the sampler's)."""

from __future__ import annotations

from ganflow.sampler.progress import LINE_FRACTION, LINE_SECONDS, Progress

__all__ = ["LINE_FRACTION", "LINE_SECONDS", "Progress"]
