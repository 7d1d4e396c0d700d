"""Evaluate zoo runs on the MNIST test split with 10k samples: export each run (its `best/`
checkpoint when it has one, selected on the training-split FID), then FID, IS and
precision/recall/density/coverage of 10k plain samples in the shipped classifier's feature space.

Usage: python benchmarks/zoo/evaluate.py RUN [RUN ...] --data ../shared/data/mnist.npz
         [--out benchmarks/results/zoo_mnist.json] [--n 10000] [--final] [--methods plain flow]
         [--metrics fid is prdc nll]
(`--methods`: sampling methods to evaluate each run with, e.g. `flow` for a FIS-GAN's prior Q;
`--metrics`: add `nll` for a Flow-GAN, the test images' likelihood in nats/image and bits/dim.)
Prints one row per run and writes the JSON (and a .md table beside it).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ganflow.export import export_bundle
from ganflow.sampler.evaluate import evaluate
from ganflow.sampler.fsio import atomic_write_text
from ganflow.sampler.runtime import RuntimeOptions
from ganflow.sampler.sample import SampleOptions

METRICS = ["fid", "is", "prdc"]


def evaluate_run(
    run: Path, data: str, n: int, final: bool, work: Path, method: str = "plain", metrics: list[str] = METRICS
) -> dict:
    ckpt = run if final or not (run / "best" / "config.json").is_file() else run / "best"
    meta = json.loads((ckpt / "config.json").read_text())
    bundle = work / f"{run.name}-{'final' if ckpt == run else 'best'}"
    if not (bundle / "config.json").is_file():
        export_bundle(ckpt, bundle, log=lambda *a: None)
    t0 = time.perf_counter()
    r = evaluate(
        bundle,
        data,
        "test",
        n,
        metrics,
        sampling=SampleOptions(method=method, seed=0, runtime=RuntimeOptions("cpu")),
    )
    return {
        "run": str(run),
        "checkpoint": "best" if ckpt != run else "final",
        "method": method,
        "step": meta["summary"]["step"],
        "selected_by": meta.get("selected_by"),
        "train": meta.get("train", {}),
        "metrics": r["metrics"],
        "n": r["n"],
        "seconds": time.perf_counter() - t0,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--data", required=True)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--final", action="store_true", help="the last checkpoint, not best/")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/zoo_mnist.json"))
    ap.add_argument("--work", type=Path, default=Path("runs/zoo/bundles"))
    ap.add_argument("--methods", nargs="+", default=["plain"])
    ap.add_argument("--metrics", nargs="+", default=METRICS)
    a = ap.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    rows = []
    for run, method in ((r, m) for r in a.runs for m in a.methods):
        row = evaluate_run(run, a.data, a.n, a.final, a.work, method, a.metrics)
        rows.append(row)
        print(
            run,
            method,
            row["checkpoint"],
            row["step"],
            {k: round(v, 4) for k, v in row["metrics"].items()},
            flush=True,
        )
    result = {"command": "python " + " ".join(sys.argv), "n": a.n, "split": "test", "rows": rows}
    atomic_write_text(a.out, json.dumps(result, indent=2, sort_keys=True) + "\n")
    keys = sorted({k for r in rows for k in r["metrics"]})
    lines = [f"`{result['command']}`", "", "| run | method | checkpoint | step | " + " | ".join(keys) + " |"]
    lines.append("|" + " --- |" * (4 + len(keys)))
    for r in rows:
        vals = " | ".join(f"{r['metrics'][k]:.4g}" if k in r["metrics"] else "-" for k in keys)
        name, method = Path(r["run"]).name, r.get("method", "plain")
        lines.append(f"| {name} | {method} | {r['checkpoint']} | {r['step']} | {vals} |")
    atomic_write_text(a.out.with_suffix(".md"), "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
