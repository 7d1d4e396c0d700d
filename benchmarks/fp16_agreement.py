"""fp16 vs fp32 graphs of one bundle (export --fp16): how far apart are the samples, and the FID?

    python benchmarks/fp16_agreement.py BUNDLE --data ../shared/data/mnist.npz [-n 2000] [--json out.json]

For each method the bundle supports among plain, latent-rs and dgflow (the bundle's defaults, 25
steps), it draws the same n samples (same seed) with --precision fp32 and fp16 and reports: the
largest and mean pixel difference, how many samples differ anywhere by more than 0.1, the latent
distance, and FID of each against the test split. onnxruntime's CPU provider runs fp16 graphs
through its fp32 kernels (only the weights are rounded), so a last row puts the same latents
through the generator in torch fp16, whose activations are rounded after every op as on a GPU;
with --device cuda the graphs themselves run in fp16.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from ganflow.sampler.bundle import load_bundle
from ganflow.sampler.evaluate import make_evaluator
from ganflow.sampler.pipeline import Pipeline, supported_methods
from ganflow.sampler.runtime import Runtime


def draw(bundle, method: str, precision: str, n: int, device: str, seed: int):
    pipe = Pipeline(bundle, Runtime(device, precision=precision), method=method, seed=seed)
    zs, xs = zip(*[(z, x) for _, z, x in pipe.generate(n, 1024)], strict=True)
    return np.concatenate(zs), np.concatenate(xs), pipe.stats


def torch_fp16_plain(path: str, bundle, ev, n: int, seed: int) -> dict:
    """The same latents through the generator in torch fp16 (activations rounded after every op,
    as on a GPU) vs torch fp32: what onnxruntime's CPU provider, which computes fp16 graphs in
    fp32, does not show."""
    import torch

    from ganflow.models import load_modules

    _, modules = load_modules(Path(path) / "model.safetensors")
    g = modules["generator"].eval()
    z, _, _ = draw(bundle, "plain", "fp32", n, "cpu", seed)
    with torch.no_grad():
        x32 = g(torch.from_numpy(z)).numpy()
        x16 = g.half()(torch.from_numpy(z).half()).float().numpy()
    lo, hi = bundle.data_range
    x32, x16 = np.clip(x32, lo, hi), np.clip(x16, lo, hi)
    per_sample = np.abs(x16 - x32).reshape(n, -1).max(1)
    return {
        "method": "plain, torch fp16 vs torch fp32",
        "pixel_diff_max": float(per_sample.max()),
        "pixel_diff_mean": float(np.abs(x16 - x32).mean()),
        "samples_differing_by_more_than_0.1": int((per_sample > 0.1).sum()),
        "fid_fp32": ev(x32, ["fid"]),
        "fid_fp16": ev(x16, ["fid"]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bundle")
    ap.add_argument("--data", required=True)
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    bundle = load_bundle(args.bundle)
    ev = make_evaluator(args.data)
    rows = []
    for method in [m for m in ("plain", "latent-rs", "dgflow") if m in supported_methods(bundle)]:
        z32, x32, _ = draw(bundle, method, "fp32", args.n, args.device, args.seed)
        z16, x16, stats = draw(bundle, method, "fp16", args.n, args.device, args.seed)
        per_sample = np.abs(x16 - x32).reshape(args.n, -1).max(1)
        fid = {p: ev(x, ["fid"]) for p, x in (("fp32", x32), ("fp16", x16))}
        row = {
            "method": method,
            "precision": stats["precision"],
            "pixel_diff_max": float(per_sample.max()),
            "pixel_diff_mean": float(np.abs(x16 - x32).mean()),
            "samples_differing_by_more_than_0.1": int((per_sample > 0.1).sum()),
            "latent_dist_median": float(np.median(np.linalg.norm(z16 - z32, axis=1))),
            "fid_fp32": fid["fp32"],
            "fid_fp16": fid["fp16"],
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    rows.append(torch_fp16_plain(args.bundle, bundle, ev, args.n, args.seed))
    print(json.dumps(rows[-1]), flush=True)
    if args.json:
        out = {"command": "python benchmarks/fp16_agreement.py " + " ".join(sys.argv[1:]), "n": args.n}
        args.json.write_text(json.dumps({**out, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
