"""f-GAN divergences on MNIST at a fixed budget: same DCGAN, steps and seeds, FID/IS/PRDC per loss.

Usage:
  python benchmarks/fgan_mnist.py --data ../shared/data/mnist.npz --steps 1000 \
      [--width 64] [--seeds 0 1 2] [--losses f:gan f:kl ...] [--out FILE]
Each (seed, loss) run trains, exports and evaluates on 10k samples against the test split; the
summary gives, per loss, mean ± sample std (ddof=1) over the seeds and the paired difference to
`--reference` on the same seed (same initialisation and data order). Each finished run also records
its validation score (`val`: the trainer's last fid2k, against the training split), on which
fgan_select_lr.py picks a learning rate per loss from several of these files, one per --lr. Runs
that already finished under --work are reused, so an interrupted benchmark continues where it
stopped (and an older file gains `val` by running it again); a reused run is marked `reused` and keeps
its training time in `train_seconds` (the trainer's own log). Runs go through the `ganflow` CLI.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

from spread import summary  # benchmarks/spread.py (this script's folder is on sys.path)

from ganflow.sampler.fsio import atomic_write_text
from ganflow.training.config import TrainConfig
from ganflow.training.jsonl import logged_values

LOSSES = ["f:gan", "f:kl", "f:rkl", "f:pearson", "f:hellinger", "f:js"]
METRICS = ("fid10k_mnist-test", "is10k", "precision10k_k3_mnist-test", "recall10k_k3_mnist-test")
VALIDATION = "fid2k_mnist-train"  # the trainer's last in-training evaluation; never the test split


def ganflow(*args: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ganflow.sampler.cli", *args], capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed")


def one_run(args: argparse.Namespace, loss: str, seed: int) -> dict:
    """Train (unless done), export and evaluate one (loss, seed); errors are results too."""
    name = f"{loss.replace(':', '-')}-s{seed}"
    work = Path(args.work)
    run, bundle, out = work / name, work / f"{name}-bundle", work / f"{name}-eval.json"
    t0 = time.perf_counter()
    trained_here = not (run / "config.json").exists()
    try:
        if trained_here:
            ganflow(
                "train", "gan", "--data", args.data, "--out", str(run), "--loss", loss,
                "--arch", "dcgan", *(["--width", str(args.width)] if args.width else []),
                "--steps", str(args.steps),
                *(["--lr-d", str(args.lr), "--lr-g", str(args.lr)] if args.lr else []),
                "--seed", str(seed), "--eval-every", str(args.steps), "--sample-every", str(args.steps),
                "--ckpt-every", str(args.steps), "--device", args.device, "--no-progress",
            )  # fmt: skip
        if not bundle.exists():
            ganflow("export", str(run), "--out", str(bundle))
        if not out.exists():
            ganflow(
                "eval", str(bundle), "--data", args.data, "-n", "10000", "--seed", str(seed),
                "--metrics", "fid,is,prdc", "--device", "cpu", "--out", str(out),
            )  # fmt: skip
        return {
            "metrics": json.loads(out.read_text())["metrics"],
            "val": {VALIDATION: logged_values(run / "metrics.jsonl", VALIDATION).get(args.steps)},
            # the trainer's own clock, so that a run reused from --work keeps its real training time
            "train_seconds": logged_values(run / "metrics.jsonl", "time_s", kind="train").get(args.steps),
            "seconds": time.perf_counter() - t0,  # this invocation only: small for a reused run
            "reused": not trained_here,
        }
    except RuntimeError as e:  # a divergence that blows up is a result too
        return {"error": str(e), "seconds": time.perf_counter() - t0}


def summarise(runs: dict, losses: list[str], seeds: list[int], reference: str) -> dict:
    """Per loss and metric: mean ± std over seeds, and loss minus reference paired by seed."""
    out = {}
    for loss in losses:
        ok = [s for s in seeds if "metrics" in runs[loss].get(str(s), {})]
        row = {"seeds_ok": ok, "seeds_failed": [s for s in seeds if s not in ok]}
        for m in METRICS:
            xs = [runs[loss][str(s)]["metrics"][m] for s in ok]
            row[m] = summary(xs) if xs else None
            paired = [
                runs[loss][str(s)]["metrics"][m] - runs[reference][str(s)]["metrics"][m]
                for s in ok
                if "metrics" in runs[reference].get(str(s), {})
            ]
            row[f"{m}_minus_{reference}"] = summary(paired) if paired and loss != reference else None
        out[loss] = row
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--width", type=int, default=None, help="G and D base channels (default: the trainer's)")
    ap.add_argument("--lr", type=float, default=None, help="Adam lr of G and D (default: the trainer's)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--losses", nargs="+", default=LOSSES)
    ap.add_argument("--reference", default="f:gan", help="the loss paired differences are taken to")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--work", default="/tmp/fgan")
    ap.add_argument("--out", default="benchmarks/results/fgan_mnist.json")
    args = ap.parse_args()
    if args.reference not in args.losses:
        ap.error(f"--reference {args.reference} is not among --losses")
    Path(args.work).mkdir(parents=True, exist_ok=True)
    result = {
        "command": " ".join(["python", *sys.argv]),
        "python": platform.python_version(),
        "setting": {"arch": "dcgan", "width": args.width, "steps": args.steps, "ema": None, "lr": args.lr,
                    "lr_g": args.lr or TrainConfig.lr_g, "lr_d": args.lr or TrainConfig.lr_d,
                    "samples": 10000, "split": "mnist-test", "seeds": args.seeds},
        "runs": {loss: {} for loss in args.losses},
    }  # fmt: skip
    for seed in args.seeds:  # seeds outermost: a cut-short benchmark still has whole seeds
        for loss in args.losses:
            result["runs"][loss][str(seed)] = r = one_run(args, loss, seed)
            print(seed, loss, r, flush=True)
            result["summary"] = summarise(result["runs"], args.losses, args.seeds, args.reference)
            atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
