"""Pool post_hoc.py results over training seeds (issue 19's "3 training seeds"): one file per
independently trained base (`bash benchmarks/zoo/post_hoc.sh SEED`). For each role (latent-rs,
dgflow-default, dgflow-chosen) and metric: the role minus plain on each base, averaged over that
base's sampling seeds, then the mean, sample std (ddof=1) and n over the bases, with the paired
t statistic. The bases are the unit, so the spread is the training-seed spread.

Usage: python benchmarks/zoo/pool_seeds.py benchmarks/results/zoo_post_hoc_s{0,1,2}.json
         --out benchmarks/results/zoo_post_hoc_pooled.json   (a .md table is written beside it)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/: the shared spread helpers

from spread import paired  # noqa: E402

from ganflow.sampler.fsio import atomic_write_text  # noqa: E402


def base_means(doc: dict, role: str) -> dict[str, tuple[float, float]]:
    """Per metric: (plain, role) means over the sampling seeds that both arms of this file hold."""
    plain = {r["seed"]: r for r in doc["rows"]["plain"]}
    arm = {r["seed"]: r for r in doc["rows"][doc["roles"][role]]}
    seeds = sorted(set(plain) & set(arm))
    keys = [k for k in plain[seeds[0]] if k not in ("seed", "wall_s") and k in arm[seeds[0]]]
    return {k: (np.mean([plain[s][k] for s in seeds]), np.mean([arm[s][k] for s in seeds])) for k in keys}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    docs = [json.loads(f.read_text()) for f in a.files]
    for f, d in zip(a.files, docs, strict=True):
        if "roles" not in d or not d.get("complete"):
            raise SystemExit(
                f"error: {f} is not a complete post_hoc.py result: run post_hoc.py to its end first"
            )
    roles = [r for r in docs[0]["roles"] if r != "plain" and all(r in d["roles"] for d in docs)]
    pooled = {}
    for role in roles:
        per_base = [base_means(d, role) for d in docs]
        keys = [k for k in per_base[0] if all(k in b for b in per_base)]
        pooled[role] = {
            k: {
                "per_base": [{"plain": float(b[k][0]), role: float(b[k][1])} for b in per_base],
                "difference": paired([b[k][0] for b in per_base], [b[k][1] for b in per_base]),
            }
            for k in keys
        }
    result = {
        "command": "python " + " ".join(sys.argv),
        "files": [str(f) for f in a.files],
        "unit": "training seed (one base per file); each base's value is its mean over sampling seeds",
        "eta_chosen": [d["eta_selection"]["chosen"] for d in docs],
        "pooled": pooled,
    }
    atomic_write_text(a.out, json.dumps(result, indent=2, sort_keys=True) + "\n")
    lines = [
        f"`{result['command']}`",
        "",
        "role minus plain, mean ± sample std (ddof=1) over the bases (n):",
        "",
    ]
    keys = sorted({k for p in pooled.values() for k in p})
    lines += ["| role | " + " | ".join(keys) + " |", "|" + " --- |" * (1 + len(keys))]
    for role, p in pooled.items():
        cells = []
        for k in keys:
            d = p[k]["difference"] if k in p else None
            std = "-" if d is None or d["std_ddof1"] is None else f"{d['std_ddof1']:.2g}"
            cells.append("-" if d is None else f"{d['mean']:+.4g} ± {std} ({d['n']})")
        lines.append(f"| {role} | " + " | ".join(cells) + " |")
    atomic_write_text(a.out.with_suffix(".md"), "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
