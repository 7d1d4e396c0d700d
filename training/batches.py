"""Real examples a trainer draws batches from by index: one tensor on the device when the data is
in memory (as it always was), else read from the lazy array batch by batch (bounded memory)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


class LazyExamples:
    """x [N, *shape] (a LazyArray, sampler/data/lazy.py): `self[idx]` reads the rows `idx` [n]
    (a tensor) and returns them as a float32 tensor [n, *shape] on `device`."""

    def __init__(self, x: Any, device: torch.device) -> None:
        self.x, self.device = x, device

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, idx: torch.Tensor) -> torch.Tensor:
        rows = idx.cpu().numpy() if isinstance(idx, torch.Tensor) else idx
        return torch.from_numpy(self.x[rows]).to(self.device, non_blocking=True)


def real_examples(x: Any, device: torch.device, rows: slice = slice(None)) -> torch.Tensor | LazyExamples:
    """The examples x[rows] (x float32 [N, *shape], an ndarray or a LazyArray) to draw real batches
    from: `examples[idx]` is a float32 tensor [len(idx), *shape] on `device` either way."""
    if isinstance(x, np.ndarray):
        return torch.from_numpy(x[rows]).to(device)
    return LazyExamples(x.take(rows), device)
