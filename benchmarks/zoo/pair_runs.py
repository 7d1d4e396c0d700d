"""Two arms trained with the same training seeds (e.g. FIS-GAN against the GAN with the same G,
trainer and seed), each evaluated by evaluate.py: per training seed (the checkpoint's `train.seed`)
each arm's mean over its sampling seeds, then B minus A paired by training seed, with the mean,
sample std (ddof=1), n and t over the training seeds, and each arm's own mean and sample std over
the same training seeds (`arms`). The training seeds are the unit.

Usage: python benchmarks/zoo/pair_runs.py --a GAN_EVAL.json [--a-method plain]
         --b FIS_EVAL.json [--b-method flow] [--labels GAN FIS-GAN] --out RESULT.json
(a .md table is written beside the JSON)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/: the shared spread helpers

from spread import paired, summary  # noqa: E402

from ganflow.sampler.fsio import atomic_write_text  # noqa: E402


def per_training_seed(path: Path, method: str) -> dict[int, dict[str, float]]:
    """{training seed: {metric: mean over sampling seeds}} of the rows of `method` in one
    evaluate.py result; one run per training seed."""
    rows = [r for r in json.loads(path.read_text())["rows"] if r["method"] == method]
    if not rows:
        raise SystemExit(f"error: {path} has no rows of method {method!r}: pass --a-method/--b-method")
    by_seed: dict[int, list[dict]] = {}
    for r in rows:
        by_seed.setdefault(int(r["train"]["seed"]), []).append(r)
    for seed, rs in by_seed.items():
        if len(names := {r["run"] for r in rs}) > 1:
            raise SystemExit(
                f"error: {path} holds {len(names)} runs with training seed {seed}: keep one per seed"
            )
    means = {}
    for seed, rs in sorted(by_seed.items()):
        means[seed] = {k: float(np.mean([r["metrics"][k] for r in rs])) for k in rs[0]["metrics"]}
    return means


def _mean_std(s: dict) -> str:
    return f"{s['mean']:.4g}" + ("" if s["std_ddof1"] is None else f" ± {s['std_ddof1']:.3g}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", type=Path, required=True)
    ap.add_argument("--a-method", default="plain")
    ap.add_argument("--b", type=Path, required=True)
    ap.add_argument("--b-method", default="flow")
    ap.add_argument("--labels", nargs=2, default=["A", "B"])
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    arm_a, arm_b = per_training_seed(a.a, a.a_method), per_training_seed(a.b, a.b_method)
    seeds = sorted(set(arm_a) & set(arm_b))
    if not seeds:
        raise SystemExit(f"error: {a.a} and {a.b} share no training seed: evaluate runs of the same seeds")
    keys = [k for k in arm_a[seeds[0]] if all(k in arm_a[s] and k in arm_b[s] for s in seeds)]
    la, lb = a.labels
    arms = {la: arm_a, lb: arm_b}
    result = {
        "command": "python " + " ".join(sys.argv),
        "unit": "training seed; each arm's value per seed is its mean over sampling seeds",
        "training_seeds": seeds,
        "per_seed": {str(s): {la: arm_a[s], lb: arm_b[s]} for s in seeds},
        "arms": {lab: {k: summary([arm[s][k] for s in seeds]) for k in keys} for lab, arm in arms.items()},
        "difference": {k: paired([arm_a[s][k] for s in seeds], [arm_b[s][k] for s in seeds]) for k in keys},
    }
    atomic_write_text(a.out, json.dumps(result, indent=2, sort_keys=True) + "\n")
    lines = [
        f"`{result['command']}`",
        "",
        f"| metric | {la}, training seeds {' / '.join(map(str, seeds))} | {lb}, same seeds | {lb} - {la} |",
    ]
    lines.append("| --- | --- | --- | --- |")
    for k in keys:
        d = result["difference"][k]
        std = "-" if d["std_ddof1"] is None else f"{d['std_ddof1']:.3g}"
        va = " / ".join(f"{arm_a[s][k]:.4g}" for s in seeds)
        vb = " / ".join(f"{arm_b[s][k]:.4g}" for s in seeds)
        lines.append(f"| {k} | {va} | {vb} | {d['mean']:+.4g} ± {std} (n = {d['n']}, ddof=1) |")
    lines += ["", f"Each arm over the same training seeds (mean ± sample std, ddof=1, n = {len(seeds)}):", ""]
    lines += [f"| metric | {la} | {lb} |", "| --- | --- | --- |"]
    for k in keys:
        lines.append(f"| {k} | " + " | ".join(_mean_std(result["arms"][lab][k]) for lab in (la, lb)) + " |")
    atomic_write_text(a.out.with_suffix(".md"), "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
