"""How far a generator's float32 output is from a float64 run of the same weights, against the
export parity tolerance (ATOL + RTOL |x|): when torch's own float32 misses it, an onnxruntime miss of
the same size is rounding, not an export fault.

Usage: python benchmarks/zoo/fp32_conditioning.py CHECKPOINT [CHECKPOINT ...] [--n 64]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from ganflow.export.onnx_export import ATOL, RTOL, float64_outputs
from ganflow.models.checkpoint import load_modules


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoints", nargs="+")
    ap.add_argument("--n", type=int, default=64)
    a = ap.parse_args()
    for path in a.checkpoints:
        G = load_modules(path)[1]["generator"].eval()
        z = torch.randn(a.n, G.config.latent_dim, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            x32 = G(z).double().numpy()
        (x64,) = float64_outputs(G, [z])
        err = np.abs(x32 - x64)
        past = int((err > ATOL + RTOL * np.abs(x64)).sum())
        print(f"{path}: max |fp32 - fp64| {err.max():.3g}, {past} of {err.size} past tolerance")


if __name__ == "__main__":
    main()
