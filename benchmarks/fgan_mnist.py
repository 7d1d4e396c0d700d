"""f-GAN divergences on MNIST at a fixed budget: same DCGAN, seed and steps, FID/IS per loss.

Usage: python benchmarks/fgan_mnist.py --data ../shared/data/mnist.npz --steps 1000 [--device cpu]
Writes benchmarks/results/fgan_mnist.json. Runs go through the `ganflow` CLI.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

LOSSES = ["bce", "f:gan", "f:kl", "f:rkl", "f:pearson", "f:hellinger", "f:js"]


def ganflow(*args: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ganflow.sampler.cli", *args], capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--work", default="/tmp/fgan")
    ap.add_argument("--out", default="benchmarks/results/fgan_mnist.json")
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    result = {"command": " ".join(["python", *sys.argv]), "python": platform.python_version(), "losses": {}}
    for loss in LOSSES:
        run, bundle = work / loss.replace(":", "-"), work / (loss.replace(":", "-") + "-bundle")
        t0 = time.perf_counter()
        try:
            if not (run / "config.json").exists():
                ganflow(
                    "train",
                    "gan",
                    "--data",
                    args.data,
                    "--out",
                    str(run),
                    "--loss",
                    loss,
                    "--steps",
                    str(args.steps),
                    "--seed",
                    str(args.seed),
                    "--eval-every",
                    str(args.steps),
                    "--ckpt-every",
                    str(args.steps),
                    "--device",
                    args.device,
                )
            if not bundle.exists():
                ganflow("export", str(run), "--out", str(bundle))
            ganflow(
                "eval",
                str(bundle),
                "--data",
                args.data,
                "-n",
                "10000",
                "--metrics",
                "fid,is,prdc",
                "--device",
                "cpu",
                "--out",
                str(work / f"{bundle.name}.json"),
            )
            metrics = json.loads((work / f"{bundle.name}.json").read_text())["metrics"]
            result["losses"][loss] = {"metrics": metrics, "seconds": time.perf_counter() - t0}
        except RuntimeError as e:  # a divergence that blows up is a result too
            result["losses"][loss] = {"error": str(e), "seconds": time.perf_counter() - t0}
        print(loss, result["losses"][loss], flush=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
