"""Graphs run on fixed device buffers through I/O binding: what CUDA-graph replay needs.

A CUDA graph records the kernels of one run with the addresses of its inputs and outputs; a replay
reads and writes those same addresses. So every bound graph here owns its buffers: inputs are
written in place (`OrtValue.update_inplace`, one host-to-device copy), outputs land in buffers
allocated once, and a batch smaller than the capture batch is padded with zeros (every graph we
export works row by row, so the padding rows never touch the real ones). The same code runs on the
CPU device without capture, which is how the tests check it against the plain `session.run` path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def capture_rows(captured, n: int) -> int:
    """The buffer size a batch of n runs in: the smallest already captured size that holds it,
    else n (a new capture)."""
    return min([r for r in captured if r >= n] or [n])


class FixedBinding:
    """One session with its inputs and outputs bound to buffers of a fixed batch `rows`.

    inputs/outputs: name -> shape without the batch axis ([] for a scalar input, which has no batch
    axis and keeps shape []). `shared` binds an input or output to an OrtValue owned elsewhere
    (e.g. the ping-pong latents of DGflow), so two bindings can hand data over on the device."""

    def __init__(
        self,
        session: Any,
        ort: Any,
        device: str,
        rows: int,
        inputs: Mapping[str, Sequence[int] | None],
        outputs: Mapping[str, Sequence[int]],
        shared: Mapping[str, Any] | None = None,
    ) -> None:
        self.session, self.rows = session, rows
        shared = dict(shared or {})
        self.values: dict[str, Any] = {}
        self.batched: dict[str, bool] = {}
        self.io = session.io_binding()
        for name, shape in {**inputs, **outputs}.items():
            batched = shape is not None
            full = (rows, *shape) if batched else ()
            self.batched[name] = batched
            if name in shared:
                self.values[name] = shared[name]
            else:
                self.values[name] = ort.OrtValue.ortvalue_from_shape_and_type(full, np.float32, device, 0)
        for name in inputs:
            self.io.bind_ortvalue_input(name, self.values[name])
        for name in outputs:
            self.io.bind_ortvalue_output(name, self.values[name])

    def set(self, name: str, a: np.ndarray) -> None:
        """Write `a` ([n <= rows, ...], or a scalar) into the input buffer `name`, zero-padded."""
        a = np.asarray(a, dtype=np.float32)
        if self.batched[name] and a.shape[0] != self.rows:
            pad = np.zeros((self.rows, *a.shape[1:]), np.float32)
            pad[: a.shape[0]] = a
            a = pad
        self.values[name].update_inplace(np.ascontiguousarray(a))

    def run(self) -> None:
        self.session.run_with_iobinding(self.io)

    def get(self, name: str, n: int) -> np.ndarray:
        """The first n rows of buffer `name`, copied to the host (a copy also on the CPU device,
        where `numpy()` is a view of the buffer that the next run overwrites)."""
        return np.array(self.values[name].numpy()[:n], copy=True)
