"""Compact tables of a `ganflow compare` report.json: chosen columns, mean ± sample std (ddof=1)
over the seeds, then the differences from plain paired by seed (what the results files quote).

Usage: python benchmarks/compare_tables.py benchmarks/results/compare_g25.json hq_rate,modes_covered,kl_modes
Columns are metric-name prefixes (hq_rate matches hq_rate5k), or samples_per_s, proposals_per_sample.
"""

from __future__ import annotations

import json
import sys

from ganflow.sampler.compare import paired, summarise


def cell(s: dict, digits: int) -> str:
    return "-" if s["mean"] is None else f"{s['mean']:.{digits}f} ± {s['std']:.{digits}f}"


def key(stats: dict, prefix: str) -> str:
    return next(k for k in stats if k.startswith(prefix))


def digits(prefix: str) -> int:
    return {"fid2k": 1, "fid5k": 4, "samples_per_s": 0, "proposals_per_sample": 1, "modes_covered": 1}.get(
        prefix, 3
    )


def main(path: str, columns: str) -> None:
    report = json.loads(open(path).read())
    cols = columns.split(",")
    order = list(dict.fromkeys(r["method"] for r in report["runs"]))  # the order they ran in
    summary, diffs = summarise(report["runs"], order), paired(report["runs"], order)
    print(f"| method | {' | '.join(cols)} |\n| --- {'| --- ' * len(cols)}|")
    for m in order:
        print(f"| {m} | " + " | ".join(cell(summary[m][key(summary[m], c)], digits(c)) for c in cols) + " |")
    ref = report["data_reference"]["metrics"]
    shown = [f"{ref[key(ref, c)]:.4g}" if any(k.startswith(c) for k in ref) else "-" for c in cols]
    print(f"| data ({report['data_reference']['split']} split) | {' | '.join(shown)} |\n")
    metric_cols = [c for c in cols if any(k.startswith(c) for k in ref)]
    print(
        f"| minus plain, paired by seed | {' | '.join(metric_cols)} |\n| --- {'| --- ' * len(metric_cols)}|"
    )
    for m, d in diffs.items():
        print(f"| {m} | " + " | ".join(cell(d[key(d, c)], digits(c)) for c in metric_cols) + " |")


if __name__ == "__main__":
    main(*sys.argv[1:3])
