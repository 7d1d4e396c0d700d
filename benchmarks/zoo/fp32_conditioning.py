"""How far a generator's float32 output is from a float64 run of the same weights, against the
export parity tolerance (ATOL + RTOL |x|): when torch's own float32 misses it, an onnxruntime miss of
the same size is rounding, not an export fault. With --onnx, the generator's exported graph too:
onnxruntime's float32 output and the file widened to float64 (what check_parity decides by when
onnxruntime's float32 error exceeds twice torch's), each against the float64 run.

Usage: python benchmarks/zoo/fp32_conditioning.py CHECKPOINT [CHECKPOINT ...] [--n 64] [--onnx]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

from ganflow.export.graph import EXPORTERS, write_graph
from ganflow.export.onnx_export import ATOL, RTOL, float64_outputs, float64_session
from ganflow.models.checkpoint import load_modules


def _gap(x: np.ndarray, x64: np.ndarray) -> tuple[str, str]:
    """max |x - x64| and how many values are past the parity tolerance, as text."""
    err = np.abs(x - x64)
    past = int((err > ATOL + RTOL * np.abs(x64)).sum())
    return f"{err.max():.3g}", f"{past} of {err.size} past tolerance"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoints", nargs="+")
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--onnx", action="store_true", help="also the exported graph, in float32 and float64")
    a = ap.parse_args()
    for path in a.checkpoints:
        G = load_modules(path)[1]["generator"].eval()
        z = torch.randn(a.n, G.config.latent_dim, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            x32 = G(z).double().numpy()
        (x64,) = float64_outputs(G, [z])
        print(f"{path}: max |fp32 - fp64| {', '.join(_gap(x32, x64))}")
        if a.onnx:
            import onnxruntime as ort

            (graph,) = EXPORTERS.get("generator")(G)
            with tempfile.TemporaryDirectory() as tmp:
                file = Path(tmp) / graph.spec.path
                write_graph(graph, file)
                name = graph.spec.inputs[0][0]
                o32 = ort.InferenceSession(str(file), providers=["CPUExecutionProvider"]).run(
                    None, {name: z.numpy()}
                )[0]
                wide = float64_session(file)
                o64 = wide.run(None, {name: z.double().numpy()})[0] if not isinstance(wide, str) else None
            for what, out in (("onnxruntime fp32", o32), ("the file in fp64", o64)):
                print(f"  {what} - fp64: " + ("{} ({})".format(*_gap(out, x64)) if out is not None else wide))


if __name__ == "__main__":
    main()
