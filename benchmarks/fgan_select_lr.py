"""A learning rate per f-GAN loss, chosen on a validation split, then that loss's test metrics.

Usage:
  python benchmarks/fgan_select_lr.py LR_A.json LR_B.json [...] [--reference f:gan]
      --out benchmarks/results/fgan_mnist_w64_lr_selected.json
Each input is a fgan_mnist.py result at one learning rate (same architecture, steps, seeds and
evaluation; a file may hold a subset of the losses, and several files may share a rate). For each
loss the rule, fixed before looking at any result: among the learning rates at which the loss ran
on every seed, take the one with the fewest failed runs (diverged, or no finite validation score),
then the lowest mean validation score (the trainer's final fid2k against the *training* split) over
its finished seeds. The test split is never looked at to choose. The chosen runs' test metrics are
then summarised as in fgan_mnist.py: mean ± sample std (ddof=1) over the finished seeds, n said,
and the paired difference to `--reference` at its own chosen learning rate, seed by seed (same
initialisation and data order). A .md table is written beside the JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from fgan_mnist import METRICS, VALIDATION
from spread import paired, summary

from ganflow.sampler.fsio import atomic_write_text

SAME = ("arch", "width", "steps", "samples", "split", "seeds")  # settings every input must share


def load(paths: list[Path]) -> tuple[dict, dict[float, dict]]:
    """(the shared setting, {learning rate: {loss: runs}}), files at one rate merged; refuses files
    that do not compare and a loss given twice at one rate."""
    setting, by_lr = None, {}
    for p in paths:
        r = json.loads(p.read_text())
        s = r["setting"]
        if "lr_g" not in s or s["lr_g"] != s["lr_d"]:
            raise SystemExit(f"error: {p} does not say one learning rate for G and D: rerun fgan_mnist.py")
        if setting is None:
            setting = {k: s[k] for k in SAME}
        elif any(s[k] != setting[k] for k in SAME):
            raise SystemExit(
                f"error: {p} differs from {paths[0]} in {[k for k in SAME if s[k] != setting[k]]}"
            )
        at_lr = by_lr.setdefault(s["lr_g"], {})
        for loss, seeds in r["runs"].items():
            if loss in at_lr:
                raise SystemExit(f"error: two inputs hold {loss} at learning rate {s['lr_g']:g}: keep one")
            for seed, run in seeds.items():
                if "metrics" in run and "val" not in run:
                    raise SystemExit(
                        f"error: {p} has no validation score for {loss} seed {seed}: run its fgan_mnist.py "
                        "command again (finished runs are reused) to record it"
                    )
            at_lr[loss] = seeds
    return setting, by_lr


def val_score(runs: dict[str, dict], seeds: list[int]) -> tuple[int, float]:
    """(failed runs, mean validation FID over the others); lower is better, in that order."""
    vals = [runs[str(s)].get("val", {}).get(VALIDATION) for s in seeds]
    ok = [v for v in vals if v is not None and math.isfinite(v)]
    return len(seeds) - len(ok), (sum(ok) / len(ok) if ok else math.inf)


def select(by_lr: dict[float, dict], seeds: list[int]) -> dict[str, dict]:
    """Per loss: each candidate rate's validation score and the chosen rate."""
    out = {}
    for loss in dict.fromkeys(loss for runs in by_lr.values() for loss in runs):  # first-seen order
        cands = {
            lr: runs[loss] for lr, runs in by_lr.items() if all(str(s) in runs.get(loss, {}) for s in seeds)
        }
        if not cands:
            continue
        scores = {lr: val_score(runs, seeds) for lr, runs in cands.items()}
        out[loss] = {
            "validation": {
                f"{lr:g}": {"failed": f, f"{VALIDATION}_mean": m if math.isfinite(m) else None}
                for lr, (f, m) in sorted(scores.items())
            },
            "chosen_lr": min(scores, key=lambda lr: scores[lr]),
        }
    return out


def summarise(chosen: dict[str, dict], by_lr: dict[float, dict], seeds: list[int], reference: str) -> None:
    """Add the chosen runs' test metrics (summary over finished seeds, paired difference)."""
    ref = by_lr[chosen[reference]["chosen_lr"]][reference] if reference in chosen else None
    for loss, row in chosen.items():
        runs = by_lr[row["chosen_lr"]][loss]
        ok = [s for s in seeds if "metrics" in runs[str(s)]]
        row["seeds_ok"], row["seeds_failed"] = ok, [s for s in seeds if s not in ok]
        row["per_seed"] = {
            str(s): runs[str(s)].get("metrics") or {"error": runs[str(s)]["error"]} for s in seeds
        }
        for m in METRICS:
            row[m] = summary([runs[str(s)]["metrics"][m] for s in ok]) if ok else None
            both = [s for s in ok if ref is not None and "metrics" in ref[str(s)]]
            row[f"{m}_minus_{reference}"] = (
                paired([ref[str(s)]["metrics"][m] for s in both], [runs[str(s)]["metrics"][m] for s in both])
                if both and loss != reference
                else None
            )


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def _cell(s: dict | None, signed: bool = False) -> str:
    if s is None:
        return "-"
    mean = f"{s['mean']:+.1f}" if signed else f"{s['mean']:.1f}"
    return f"{mean} ({s['n']})" if s["std_ddof1"] is None else f"{mean} ± {s['std_ddof1']:.1f} ({s['n']})"


def table(result: dict, reference: str) -> str:
    fid = METRICS[0]
    lrs = sorted({lr for row in result["losses"].values() for lr in row["validation"]}, key=float)
    lines = [
        f"`{result['command']}`",
        "",
        f"Validation: {VALIDATION} mean over seeds (failed runs); test: {fid}, mean ± sample std "
        f"(ddof=1) (n) over the chosen rate's finished seeds, and minus {reference} paired by seed.",
        "",
        "| loss | " + " | ".join(f"lr {lr}" for lr in lrs) + f" | chosen | {fid} | minus {reference} |",
        "|" + " --- |" * (len(lrs) + 4),
    ]
    for loss, row in result["losses"].items():
        v = row["validation"]
        cells = [
            "not run" if lr not in v else f"{_num(v[lr][f'{VALIDATION}_mean'])} ({v[lr]['failed']})"
            for lr in lrs
        ]
        diff = _cell(row[f"{fid}_minus_{reference}"], signed=True)
        lines.append(
            f"| {loss} | " + " | ".join(cells) + f" | {row['chosen_lr']:g} | {_cell(row[fid])} | {diff} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("inputs", nargs="+", type=Path, help="fgan_mnist.py results, one per learning rate")
    ap.add_argument("--reference", default="f:gan")
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    setting, by_lr = load(a.inputs)
    chosen = select(by_lr, setting["seeds"])
    if a.reference not in chosen:
        raise SystemExit(f"error: --reference {a.reference} did not run on every seed at any learning rate")
    summarise(chosen, by_lr, setting["seeds"], a.reference)
    result = {
        "command": "python " + " ".join(sys.argv),
        "setting": setting,
        "rule": "per loss: fewest failed runs, then lowest mean validation score; test split never used",
        "validation": VALIDATION,
        "losses": chosen,
    }
    atomic_write_text(a.out, json.dumps(result, indent=2) + "\n")
    md = table(result, a.reference)
    atomic_write_text(a.out.with_suffix(".md"), md)
    print(md)


if __name__ == "__main__":
    main()
