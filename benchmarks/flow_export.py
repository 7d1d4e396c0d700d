"""Export time of FIS-GAN's latent flows (flow/sample.onnx and flow/log_prob.onnx, d = 64).

Usage: OMP_NUM_THREADS=1 python benchmarks/flow_export.py [--archs realnvp maf iaf] [--json OUT]
MAF's sampling and IAF's density are sequential over the d dimensions, so their graphs unroll d
network passes per layer; this times `export_graph` (dynamo export, checker, onnxruntime parity at
batch 1, 7 and 64) for each graph of a freshly built flow (4 layers, 128 hidden units).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from ganflow.export.graph import EXPORTERS, export_graph
from ganflow.models import build_component


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--archs", nargs="+", default=["realnvp", "maf", "iaf"])
    ap.add_argument("--latent-dim", type=int, default=64)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for arch in args.archs:
            torch.manual_seed(0)
            cfg = {"arch": arch, "latent_dim": args.latent_dim, "layers": 4, "hidden": 128}
            for graph in EXPORTERS.get("flow")(build_component("flow", cfg)):
                t = time.perf_counter()
                diff = export_graph(graph, Path(tmp) / arch / graph.spec.path)
                row = {
                    "arch": arch,
                    "graph": graph.spec.path,
                    "seconds": time.perf_counter() - t,
                    "parity": diff,
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
    if args.json:
        args.json.write_text(
            json.dumps({"torch": torch.__version__, "threads": 1, "rows": rows}, indent=1) + "\n"
        )


if __name__ == "__main__":
    main()
