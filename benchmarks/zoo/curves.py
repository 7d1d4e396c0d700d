"""FIS-GAN vs GAN FID curves of two zoo runs (same generator, trainer, seed and evaluation steps):
the in-training evaluations of each run's metrics.jsonl, side by side and paired by step.

Usage: python benchmarks/zoo/curves.py --gan GAN/metrics.jsonl --fisgan FIS/metrics.jsonl
         [--key fid2k_mnist-train] [--out benchmarks/results/zoo_fisgan_vs_gan.json]
Writes the JSON, a .md table and a .png (log10 FID against step; blue GAN, red FIS-GAN) beside it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/: the shared line plot

from fisgan_mnist import line_plot  # noqa: E402

from ganflow.sampler.fsio import atomic_write_bytes, atomic_write_text  # noqa: E402
from ganflow.sampler.images import encode_png  # noqa: E402


def evals(path: Path, key: str) -> dict[int, float]:
    """{step: value of `key`} over the run's eval records (the last record of a step wins)."""
    out = {}
    for line in path.read_text().splitlines():
        rec = json.loads(line)
        if rec.get("kind") == "eval" and key in rec:
            out[int(rec["step"])] = float(rec[key])
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gan", type=Path, required=True)
    ap.add_argument("--fisgan", type=Path, required=True)
    ap.add_argument("--key", default="fid2k_mnist-train")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/zoo_fisgan_vs_gan.json"))
    a = ap.parse_args()
    gan, fis = evals(a.gan, a.key), evals(a.fisgan, a.key)
    steps = sorted(set(gan) & set(fis))
    if not steps:
        sys.exit(f"error: the two logs share no evaluation step with {a.key}")
    diff = [fis[s] - gan[s] for s in steps]
    result = {
        "command": "python " + " ".join(sys.argv),
        "key": a.key,
        "steps": steps,
        "gan": [gan[s] for s in steps],
        "fisgan": [fis[s] for s in steps],
        "fisgan_minus_gan": diff,
        "fisgan_lower_at": sum(d < 0 for d in diff),
        "mean_over_steps": {"gan": statistics.fmean(gan[s] for s in steps),
                            "fisgan": statistics.fmean(fis[s] for s in steps)},
    }  # fmt: skip
    atomic_write_text(a.out, json.dumps(result, indent=2) + "\n")
    lines = [f"`{result['command']}`", "", f"| step | GAN {a.key} | FIS-GAN {a.key} | FIS-GAN - GAN |"]
    lines.append("| --- | --- | --- | --- |")
    lines += [f"| {s} | {gan[s]:.1f} | {fis[s]:.1f} | {fis[s] - gan[s]:+.1f} |" for s in steps]
    atomic_write_text(a.out.with_suffix(".md"), "\n".join(lines) + "\n")
    curves = {"gan": (steps, result["gan"], None), "fisgan": (steps, result["fisgan"], None)}
    atomic_write_bytes(a.out.with_suffix(".png"), encode_png(line_plot(curves)))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
