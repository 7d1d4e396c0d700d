"""Experiment: base GAN vs + LatentRS on MNIST (three seeds) and 25 Gaussians; f-GAN divergences.

Usage: python benchmarks/latent_rs.py --data ../shared/data/mnist.npz --work /tmp/lrs \
           [--seeds 0 1 2] [--gan-steps 3000] [--rw-steps 2000] [--fgan-steps 2000] [--device auto]
Writes latent_rs.json next to --out. Every run goes through the `ganflow` CLI, as a user would.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

PY = [sys.executable, "-m", "ganflow.sampler.cli"]


def ganflow(*args: str) -> str:
    t0 = time.perf_counter()
    proc = subprocess.run([*PY, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"ganflow {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    print(f"[{time.perf_counter() - t0:6.1f} s] ganflow {' '.join(args)}", flush=True)
    return proc.stdout


def evaluate(bundle: Path, data: str, method: str, out: Path, metrics: str, n: int) -> dict:
    ganflow(
        "eval",
        str(bundle),
        "--data",
        data,
        "-n",
        str(n),
        "--method",
        method,
        "--metrics",
        metrics,
        "--device",
        "cpu",
        "--out",
        str(out),
    )
    return json.loads(out.read_text())


def timed_sample(bundle: Path, method: str, out: Path, n: int, device: str) -> dict:
    text = ganflow(
        "sample",
        str(bundle),
        "-n",
        str(n),
        "--method",
        method,
        "--out",
        str(out),
        "--device",
        device,
        "--overwrite",
    )
    return {"stdout": text.strip()}


def mean_std(rows: list[dict]) -> dict:
    keys = rows[0].keys()
    return {
        k: {"mean": float(np.mean([r[k] for r in rows])), "std": float(np.std([r[k] for r in rows], ddof=1))}
        for k in keys
    }


def toy(args, work: Path, dev: list[str], result: dict) -> None:
    """25 Gaussians: the demo GAN's settings, reweighted, plain vs LatentRS."""
    g_run, g_rw, g_bundle = work / "g25-gan", work / "g25-rw", work / "g25-rw-bundle"
    gan = "--arch mlp --width 128 --latent-dim 2 --batch-size 512 --lr-g 5e-4 --lr-d 5e-4 --steps 6000"
    if not (g_run / "config.json").exists():
        ganflow("train", "gan", "--data", "gaussians25", "--out", str(g_run), *gan.split(), *dev)
    if not (g_rw / "config.json").exists():
        ganflow(
            "train",
            "reweight",
            "--base",
            str(g_run),
            "--out",
            str(g_rw),
            "--steps",
            str(args.rw_steps),
            "--batch-size",
            "256",
            *dev,
            *[f"--{a}" for a in args.rw_args],
        )
    if not g_bundle.exists():
        ganflow("export", str(g_rw), "--out", str(g_bundle))
    for method in ("plain", "latent-rs"):
        r = evaluate(g_bundle, "gaussians25", method, work / f"g25-{method}.json", "modes,fid,prdc", 10_000)
        result["gaussians25"][method] = r["metrics"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--work", default="/tmp/lrs")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--gan-steps", type=int, default=3000)
    ap.add_argument("--rw-steps", type=int, default=2000)
    ap.add_argument("--fgan-steps", type=int, default=2000)
    ap.add_argument(
        "--fgan", nargs="*", default=["f:kl", "f:rkl", "f:pearson", "f:hellinger", "f:js", "f:gan"]
    )
    ap.add_argument("--device", default="auto")
    ap.add_argument("--out", default="benchmarks/results/latent_rs.json")
    ap.add_argument(
        "--rw-args", nargs="*", default=[], help="extra `train reweight` options, e.g. normalize-emd"
    )
    ap.add_argument("--skip-toy", action="store_true")
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    dev = ["--device", args.device]
    result: dict = {
        "command": " ".join(["python", *sys.argv]),
        "python": platform.python_version(),
        "mnist": {},
        "gaussians25": {},
        "fgan": {},
    }

    # --- MNIST: base DCGAN (BCE) vs + LatentRS, three seeds ---------------------------------------
    rows = {"plain": [], "latent-rs": []}
    for seed in args.seeds:
        run, rw = work / f"mnist-gan-{seed}", work / f"mnist-rw-{seed}"
        if not (run / "config.json").exists():
            ganflow(
                "train",
                "gan",
                "--data",
                args.data,
                "--out",
                str(run),
                "--steps",
                str(args.gan_steps),
                "--seed",
                str(seed),
                "--eval-every",
                "1000",
                "--ckpt-every",
                "1000",
                *dev,
            )
        if not (rw / "config.json").exists():
            ganflow(
                "train",
                "reweight",
                "--base",
                str(run),
                "--data",
                args.data,
                "--out",
                str(rw),
                "--steps",
                str(args.rw_steps),
                "--seed",
                str(seed),
                *dev,
            )
        bundle = work / f"mnist-rw-{seed}-bundle"
        if not bundle.exists():
            ganflow("export", str(rw), "--out", str(bundle))
        for method in rows:
            r = evaluate(
                bundle, args.data, method, work / f"eval-{seed}-{method}.json", "fid,prdc,is", 10_000
            )
            rows[method].append({k.split("_")[0] if "_" in k else k: v for k, v in r["metrics"].items()})
            result["mnist"].setdefault("per_seed", []).append(
                {"seed": seed, "method": method, **r["metrics"]}
            )
        t0 = time.perf_counter()
        out = timed_sample(bundle, "latent-rs", work / "rs.npz", 10_000, "cpu")
        result["mnist"].setdefault("latent_rs_sampling", []).append(
            {"seed": seed, "seconds_10k": time.perf_counter() - t0, **out}
        )
        t0 = time.perf_counter()
        timed_sample(bundle, "plain", work / "plain.npz", 10_000, "cpu")
        result["mnist"].setdefault("plain_sampling_seconds_10k", []).append(time.perf_counter() - t0)
    result["mnist"]["summary"] = {m: mean_std(r) for m, r in rows.items()}

    # --- 25 Gaussians: the demo GAN vs + LatentRS --------------------------------------------------
    if not args.skip_toy:
        toy(args, work, dev, result)

    # --- f-GAN divergences on MNIST at a fixed budget ---------------------------------------------
    for loss in args.fgan:
        run = work / f"fgan-{loss.replace(':', '-')}"
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
                str(args.fgan_steps),
                "--eval-every",
                "1000",
                "--ckpt-every",
                "1000",
                *dev,
            )
            ganflow("export", str(run), "--out", str(run) + "-bundle")
        r = evaluate(
            Path(str(run) + "-bundle"), args.data, "plain", work / f"fgan-{loss[2:]}.json", "fid,is", 10_000
        )
        result["fgan"][loss] = r["metrics"]

    text = json.dumps(result, indent=2)
    Path(args.out).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
