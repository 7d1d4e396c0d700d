"""Evaluate zoo runs on the MNIST test split with 10k samples: export each run (its `best/`
checkpoint when it has one, selected on the training-split FID), then FID, IS and
precision/recall/density/coverage of 10k plain samples in the shipped classifier's feature space.

Usage: python benchmarks/zoo/evaluate.py RUN [RUN ...] --data ../shared/data/mnist.npz
         [--out benchmarks/results/zoo_mnist.json] [--n 10000] [--final] [--methods plain flow]
         [--metrics fid is prdc nll] [--seeds 0 1 2] [--skip refine]
(`--methods`: sampling methods to evaluate each run with, e.g. `flow` for a FIS-GAN's prior Q;
`--metrics`: add `nll` for a Flow-GAN, the test images' likelihood in nats/image and bits/dim;
`--seeds`: sampling seeds, 10k samples each; with more than one, the JSON's `summary` holds each
run and method's mean and sample std (ddof=1) over them, n said; `--skip`: graphs left out of the
bundles, e.g. `refine` for a generator whose DGflow step is too badly conditioned for float32.)
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/: the shared spread helpers

from spread import summary  # noqa: E402

METRICS = ["fid", "is", "prdc"]


def evaluate_run(
    run: Path,
    data: str,
    n: int,
    final: bool,
    work: Path,
    method: str = "plain",
    metrics: list[str] = METRICS,
    seed: int = 0,
    skip: list[str] | None = None,
) -> dict:
    ckpt = run if final or not (run / "best" / "config.json").is_file() else run / "best"
    meta = json.loads((ckpt / "config.json").read_text())
    bundle = work / f"{run.name}-{'final' if ckpt == run else 'best'}"
    if not (bundle / "config.json").is_file():
        export_bundle(ckpt, bundle, log=lambda *a: None, skip=skip or ())
    t0 = time.perf_counter()
    r = evaluate(
        bundle,
        data,
        "test",
        n,
        metrics,
        sampling=SampleOptions(method=method, seed=seed, runtime=RuntimeOptions("cpu")),
    )
    return {
        "run": str(run),
        "checkpoint": "best" if ckpt != run else "final",
        "method": method,
        "seed": seed,
        "step": meta["summary"]["step"],
        "selected_by": meta.get("selected_by"),
        "train": meta.get("train", {}),
        **({"skipped_graphs": list(skip)} if skip else {}),
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
    ap.add_argument("--seeds", type=int, nargs="+", default=[0], help="sampling seeds")
    ap.add_argument("--skip", nargs="+", default=[], help="graphs left out of every bundle (export --skip)")
    a = ap.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    rows = []
    for run, method, seed in ((r, m, s) for r in a.runs for m in a.methods for s in a.seeds):
        row = evaluate_run(run, a.data, a.n, a.final, a.work, method, a.metrics, seed, a.skip)
        rows.append(row)
        print(
            run,
            method,
            f"seed {seed}",
            row["checkpoint"],
            row["step"],
            {k: round(v, 4) for k, v in row["metrics"].items()},
            flush=True,
        )
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(f"{Path(r['run']).name} {r['method']}", []).append(r["metrics"])
    result = {
        "command": "python " + " ".join(sys.argv),
        "n": a.n,
        "split": "test",
        "seeds": a.seeds,
        "rows": rows,
        "summary": {g: {k: summary([m[k] for m in ms]) for k in ms[0]} for g, ms in groups.items()},
    }
    atomic_write_text(a.out, json.dumps(result, indent=2, sort_keys=True) + "\n")
    keys = sorted({k for r in rows for k in r["metrics"]})
    head = "| run | method | seed | checkpoint | step | " + " | ".join(keys) + " |"
    lines = [f"`{result['command']}`", "", head]
    lines.append("|" + " --- |" * (5 + len(keys)))
    for r in rows:
        vals = " | ".join(f"{r['metrics'][k]:.4g}" if k in r["metrics"] else "-" for k in keys)
        name, method = Path(r["run"]).name, r.get("method", "plain")
        lines.append(f"| {name} | {method} | {r.get('seed', 0)} | {r['checkpoint']} | {r['step']} | {vals} |")
    if len(a.seeds) > 1:
        n = len(a.seeds)
        lines += ["", f"Mean ± sample std (ddof=1) over the {n} sampling seeds (one trained model each):", ""]
        lines += ["| run, method | " + " | ".join(keys) + " |", "|" + " --- |" * (1 + len(keys))]
        for g, ss in result["summary"].items():
            cell = "{mean:.4g} ± {std_ddof1:.2g}".format
            vals = " | ".join(cell(**ss[k]) if k in ss else "-" for k in keys)
            lines.append(f"| {g} | {vals} |")
    atomic_write_text(a.out.with_suffix(".md"), "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
