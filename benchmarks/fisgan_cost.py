"""Wall-clock cost per training step of FIS-GAN relative to the GAN, interleaved runs.

Usage: OMP_NUM_THREADS=1 python benchmarks/fisgan_cost.py --data ../shared/data/mnist.npz
GAN, FIS-GAN (t = 10, E = 5) and FIS-GAN (t = 50, E = 50), the configurations of
benchmarks/fisgan_mnist.py, 200 steps each with evaluation off, alternated `--reps` times so
that load from other processes on a shared machine hits all of them alike. Writes
benchmarks/results/fisgan_cost.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
import fisgan_mnist as fm  # noqa: E402

from ganflow.sampler.data import load_dataset  # noqa: E402
from ganflow.training import default_components, train_gan  # noqa: E402
from ganflow.training.fisgan import FISConfig, flow_component, train_fisgan  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--variants", nargs="+", default=["gan", "fisgan", "fisgan-t50e50"])
    ap.add_argument("--work", default="/tmp/fiscost")
    ap.add_argument("--out", default="benchmarks/results/fisgan_cost.json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    ds = load_dataset(args.data, dataset="mnist", seed=100)
    per_step: dict[str, list[float]] = {}
    for rep in range(args.reps):
        for v in args.variants:
            d = Path(args.work) / f"{v}-{rep}"
            shutil.rmtree(d, ignore_errors=True)
            comps = default_components(ds.spec, width=16)
            cfg = fm.train_config(args.steps, 100, args.steps)
            if fm.VARIANTS[v] is None:
                train_gan(d, ds, comps, cfg, progress=False, device="cpu")
            else:
                arch, over = fm.VARIANTS[v]
                comps["flow"] = flow_component(arch, 64, **fm.FLOW)
                train_fisgan(d, ds, comps, cfg, FISConfig(**{**fm.FIS, **over}), progress=False, device="cpu")
            rec = [json.loads(line) for line in (d / "metrics.jsonl").read_text().splitlines()]
            t = [r for r in rec if r["kind"] == "train"][-1]["time_s"] / args.steps  # before the final eval
            per_step.setdefault(v, []).append(t)
            print(v, rep, f"{t:.4f} s/step", flush=True)
    mean = {v: sum(t) / len(t) for v, t in per_step.items()}
    result = {
        "command": " ".join(["python", *sys.argv]),
        "steps": args.steps,
        "seconds_per_step": per_step,
        "mean_seconds_per_step": mean,
        "ratio_to_gan": {v: m / mean["gan"] for v, m in mean.items()},
    }
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(result["ratio_to_gan"])


if __name__ == "__main__":
    main()
