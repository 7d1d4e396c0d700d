"""Sample one bundle on every available onnxruntime device; agreement and throughput as JSON.

Usage: python benchmarks/sample_devices.py BUNDLE [-n 10000] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from ganflow.sampler.sample import sample_to


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("bundle")
    ap.add_argument("-n", type=int, default=10_000)
    ap.add_argument("--batch-size", type=int, default=1024)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    has_cuda = "CUDAExecutionProvider" in ort.get_available_providers()
    devices = ["cpu"] + (["cuda", "cuda-tf32"] if has_cuda else [])
    result = {
        "bundle": args.bundle,
        "n": args.n,
        "batch_size": args.batch_size,
        "onnxruntime": ort.__version__,
        "python": platform.python_version(),
        "runs": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        samples = {}
        for dev in devices:
            out = Path(tmp) / f"{dev}.npz"
            kw = {"device": dev.split("-")[0], "tf32": dev.endswith("tf32"), "overwrite": True}
            sample_to(args.bundle, out, min(args.n, 2048), **kw)  # warm-up
            t0 = time.perf_counter()
            rep = sample_to(args.bundle, out, args.n, batch_size=args.batch_size, **kw)
            wall = time.perf_counter() - t0
            samples[dev] = np.load(out)["samples"]
            result["runs"][dev] = {
                "provider": rep["provider"],
                "wall_s": wall,
                "samples_per_s_end_to_end": args.n / wall,
                "samples_per_s_pipeline": rep["samples_per_s"],
            }
        for dev in devices[1:]:
            diff = float(np.abs(samples[dev] - samples["cpu"]).max())
            result["runs"][dev]["max_abs_diff_vs_cpu"] = diff
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
