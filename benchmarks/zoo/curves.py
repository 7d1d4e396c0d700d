"""FIS-GAN vs GAN FID curves of zoo runs (same generator, trainer and evaluation steps): the
in-training evaluations of each run's metrics.jsonl, paired by step and by training seed (the i-th
--gan log with the i-th --fisgan log, same seed). With several seeds, each step gets the mean,
sample std (ddof=1) and n over the seeds of each arm and of the paired difference FIS-GAN - GAN.

Usage: python benchmarks/zoo/curves.py --gan GAN_s0/metrics.jsonl [GAN_s1 ...]
         --fisgan FIS_s0/metrics.jsonl [FIS_s1 ...]
         [--key fid2k_mnist-train] [--out benchmarks/results/zoo_fisgan_vs_gan.json]
Writes the JSON, a .md table and a .png (log10 FID against step, mean with a +-std band; blue GAN,
red FIS-GAN) beside it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/: shared plot and spread

from fisgan_mnist import line_plot  # noqa: E402
from spread import paired, summary  # noqa: E402

from ganflow.sampler.fsio import atomic_write_bytes, atomic_write_text  # noqa: E402
from ganflow.sampler.images import encode_png  # noqa: E402
from ganflow.training.jsonl import logged_values  # noqa: E402


def _fmt(s: dict, signed: bool = False) -> str:
    m = f"{s['mean']:+.1f}" if signed else f"{s['mean']:.1f}"
    return m if s["std_ddof1"] is None else f"{m} ± {s['std_ddof1']:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gan", type=Path, nargs="+", required=True)
    ap.add_argument("--fisgan", type=Path, nargs="+", required=True)
    ap.add_argument("--key", default="fid2k_mnist-train")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/zoo_fisgan_vs_gan.json"))
    a = ap.parse_args()
    if len(a.gan) != len(a.fisgan):
        sys.exit(
            f"error: {len(a.gan)} --gan logs and {len(a.fisgan)} --fisgan logs: give one of each per seed"
        )
    gans, fiss = [logged_values(p, a.key) for p in a.gan], [logged_values(p, a.key) for p in a.fisgan]
    steps = sorted(set.intersection(*(set(r) for r in gans + fiss)))
    if not steps:
        sys.exit(f"error: the logs share no evaluation step with {a.key}")
    per_step = [
        {
            "step": s,
            "gan": summary([g[s] for g in gans]),
            "fisgan": summary([f[s] for f in fiss]),
            "fisgan_minus_gan": paired([g[s] for g in gans], [f[s] for f in fiss]),
        }
        for s in steps
    ]
    diff_mean = [r["fisgan_minus_gan"]["mean"] for r in per_step]
    result = {
        "command": "python " + " ".join(sys.argv),
        "key": a.key,
        "n_seeds": len(a.gan),
        "spread": "sample std (ddof=1) over the training seeds; the difference is paired by seed",
        "steps": steps,
        "per_seed": {
            "gan": [[g[s] for s in steps] for g in gans],
            "fisgan": [[f[s] for s in steps] for f in fiss],
        },
        "per_step": per_step,
        "fisgan_lower_at": sum(d < 0 for d in diff_mean),
        "fisgan_lower_per_seed": [sum(f[s] < g[s] for s in steps) for g, f in zip(gans, fiss, strict=True)],
    }  # fmt: skip
    atomic_write_text(a.out, json.dumps(result, indent=2) + "\n")
    n = len(a.gan)
    lines = [
        f"`{result['command']}`",
        "",
        f"{a.key}; mean ± sample std (ddof=1) over n = {n} training seed(s).",
        "",
    ]
    lines.append(f"| step | GAN | FIS-GAN | FIS-GAN - GAN (paired, n = {n}) |")
    lines.append("| --- | --- | --- | --- |")
    for r in per_step:
        diff = _fmt(r["fisgan_minus_gan"], signed=True)
        lines.append(f"| {r['step']} | {_fmt(r['gan'])} | {_fmt(r['fisgan'])} | {diff} |")
    atomic_write_text(a.out.with_suffix(".md"), "\n".join(lines) + "\n")
    curves = {
        arm: (
            steps,
            [r[arm]["mean"] for r in per_step],
            None if n == 1 else [r[arm]["std_ddof1"] for r in per_step],
        )
        for arm in ("gan", "fisgan")
    }
    atomic_write_bytes(a.out.with_suffix(".png"), encode_png(line_plot(curves)))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
