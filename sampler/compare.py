"""`ganflow compare`: every sampling method of one bundle, same seeds, one report (md, json, PNGs)."""

from __future__ import annotations

import json
import math
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ganflow.sampler.bundle import Bundle
from ganflow.sampler.data import load_dataset, other_split, reference_data
from ganflow.sampler.errors import InputError
from ganflow.sampler.evaluate import REAL_N, make_evaluator
from ganflow.sampler.fsio import make_temp_dir, publish_dir
from ganflow.sampler.hub import open_bundle
from ganflow.sampler.images import PALETTE_NAMES, encode_png, plot_groups_png, sample_png
from ganflow.sampler.pipeline import METHODS, Pipeline, supported_methods
from ganflow.sampler.runtime import RuntimeOptions
from ganflow.sampler.stages import options_from_flat

BATCH = 1024  # sampling batch (samples do not depend on it)


def compare(
    bundle: str | Path | Bundle,
    data: str | None,
    n: int,
    methods: Sequence[str] | None = None,
    seeds: Sequence[int] = (0, 1, 2),
    out: str | Path | None = None,
    *,
    options: Mapping[str, Any] | None = None,
    runtime: RuntimeOptions = RuntimeOptions(),
    real_n: int | None = REAL_N,
    overwrite: bool = False,
    log: Callable[[str], None] = lambda line: None,
) -> dict[str, Any]:
    """Draw `n` samples with every method the bundle supports (or `methods`) for each seed, score
    them against the test split of `data` (default: the bundle's dataset) with its default metrics,
    and return the report: per run the metrics and the cost (samples/s, proposals per kept sample),
    per method the mean and sample std (ddof=1) over the seeds. With `out`, the report folder
    (report.json, report.md, one samples_<method>.png per method, precision_recall.png) appears
    whole or not at all. `options`: flat stage options for every run, e.g. {"mh_k": 40}."""
    b = bundle if isinstance(bundle, Bundle) else open_bundle(bundle)
    methods = list(methods or sorted(supported_methods(b), key=lambda m: m != "plain"))  # the baseline first
    seeds = [int(s) for s in seeds]
    if n <= 3 or not seeds or len(set(seeds)) != len(seeds) or not methods:
        raise InputError(f"compare needs -n > 3, distinct seeds and a method, got n={n}, seeds={seeds}")
    out = None if out is None else Path(out)
    if out is not None and out.exists() and not overwrite:
        raise InputError(f"{out} already exists: pass --overwrite or choose another --out")
    trained = b.manifest["data"]
    data, dataset, read = reference_data(data, None, None, trained["dataset"], trained.get("source"))
    test = load_dataset(data, dataset=dataset, split="test", options=read)  # own data: read as trained
    ev = make_evaluator(test, "test", real_n=real_n)
    stages, rt = options_from_flat(options or {}), runtime.create()
    runs, figures = _sample_all(b, rt, methods, seeds, n, stages, ev, log)
    reference = {"split": "train", "n": n, "metrics": _clean(ev(other_split(test, "train").x[:n]))}
    report = {
        "bundle": str(b.root),
        "data": data,
        "split": "test",
        "real_n": len(ev.real),
        "n": n,
        "seeds": seeds,
        "options": dict(options or {}),
        "provider": rt.provider,
        "methods": {m: pipe_info(b, m, stages) for m in methods},
        "runs": runs,
        "summary": summarise(runs, methods),
        "paired_vs_plain": paired(runs, methods),
        "data_reference": reference,
        "colours": {m: PALETTE_NAMES[i % len(PALETTE_NAMES)] for i, m in enumerate(methods)},
    }
    if out is not None:
        _write(out, report, figures, b, ev)
    return report


def _sample_all(b: Bundle, rt, methods, seeds, n: int, stages, ev, log) -> tuple[list, dict[str, np.ndarray]]:
    """Every (method, seed) run in order, and each method's first-seed samples (for its figure).
    Every method's pipeline is built before any sampling, so a bundle that cannot run one is
    refused at once."""
    pipes = {m: Pipeline(b, rt, m, seeds[0], options=stages) for m in methods}
    runs, figures = [], {}
    for m in methods:
        for seed in seeds:
            pipe = pipes.pop(m) if seed == seeds[0] else Pipeline(b, rt, m, seed, options=stages)
            x, run = _run(pipe, n, ev)
            runs.append({"method": m, "seed": seed, **run})
            figures.setdefault(m, x)
            log(f"{m} seed {seed}: {_line(run)}")
    return runs, figures


def _run(pipe: Pipeline, n: int, ev) -> tuple[np.ndarray, dict[str, Any]]:
    """(samples [n, *shape], the run's metrics, cost and stage stats)."""
    x = np.empty((n, *pipe.bundle.data_shape), np.float32)
    t0 = time.perf_counter()
    for lo, _, batch in pipe.generate(n, BATCH):
        x[lo : lo + len(batch)] = batch
    seconds = time.perf_counter() - t0
    stats = {k: v for k, v in pipe.stats.items() if isinstance(v, (int, float, str))}
    run = {
        "pipeline": pipe.describe(),
        "metrics": _clean(ev(x)),
        "seconds": seconds,
        "samples_per_s": n / seconds,
        "proposals_per_sample": stats.get("proposals", n) / n,
        "stats": stats,
    }
    return x, run


def pipe_info(bundle: Bundle, method: str, stages: Mapping[str, Any]) -> dict[str, Any]:
    """What a method is and the settings it ran with: the stage options over the bundle's defaults."""
    p = METHODS.get(method)
    used = [s for s in (p.select, p.refine) if s]
    return {"summary": p.summary, "settings": {s: stages[s].resolved(bundle.defaults(s)) for s in used}}


def _values(runs: list[dict[str, Any]], method: str) -> dict[str, list[float | None]]:
    """{quantity: its value per seed, in seed order} for one method."""
    mine = sorted((r for r in runs if r["method"] == method), key=lambda r: r["seed"])
    values = {k: [r["metrics"][k] for r in mine] for k in mine[0]["metrics"]}
    values.update({k: [r[k] for r in mine] for k in ("samples_per_s", "proposals_per_sample")})
    return values


def summarise(runs: list[dict[str, Any]], methods: Sequence[str]) -> dict[str, Any]:
    """{method: {quantity: {"mean", "std" (ddof=1; None for one seed), "n"}}} over the seeds."""
    return {m: {k: _spread(v) for k, v in _values(runs, m).items()} for m in methods}


def paired(runs: list[dict[str, Any]], methods: Sequence[str], base: str = "plain") -> dict[str, Any]:
    """Per method but `base`: the spread of its per-seed differences from `base` (same seed), the
    metrics only; {} when `base` did not run."""
    if base not in methods:
        return {}
    ref = _values(runs, base)
    out = {}
    for m in methods:
        if m != base:
            mine = _values(runs, m)
            diff = lambda a, b: None if a is None or b is None else a - b  # noqa: E731
            out[m] = {
                k: _spread([diff(a, b) for a, b in zip(mine[k], ref[k], strict=True)])
                for k in runs[0]["metrics"]
            }
    return out


def _spread(values: list[float | None]) -> dict[str, Any]:
    v = np.array([np.nan if x is None else x for x in values], dtype=np.float64)
    std = float(np.std(v, ddof=1)) if len(v) > 1 else math.nan
    return {"mean": _num(float(np.mean(v))), "std": _num(std), "n": len(v)}


def _num(v: float) -> float | None:
    return v if math.isfinite(v) else None


def _clean(metrics: Mapping[str, float]) -> dict[str, float | None]:
    return {k: _num(float(v)) for k, v in metrics.items()}


def _line(run: Mapping[str, Any]) -> str:
    shown = ", ".join(f"{k} {v:.4g}" for k, v in run["metrics"].items() if v is not None)
    return (
        f"{shown}; {run['samples_per_s']:,.0f} samples/s, {run['proposals_per_sample']:.3g} proposals/sample"
    )


def _write(out: Path, report: dict[str, Any], figures: dict[str, np.ndarray], b: Bundle, ev) -> None:
    """report.json, report.md and the PNGs into a temporary folder beside `out`, then renamed."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = make_temp_dir(out)
    try:
        modes = None if ev.modes is None else ev.modes.centers
        for m, x in figures.items():
            (tmp / f"samples_{m}.png").write_bytes(sample_png(x, b.data_range, modes))
        (tmp / "precision_recall.png").write_bytes(encode_png(plot_groups_png(pr_points(report))))
        report["files"] = sorted(p.name for p in tmp.iterdir()) + ["report.json", "report.md"]
        (tmp / "report.json").write_text(json.dumps(report, indent=2) + "\n")  # in report order
        (tmp / "report.md").write_text(markdown(report))
        publish_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def pr_points(report: Mapping[str, Any]) -> list[np.ndarray]:
    """Per method (in order) its (recall, precision) [seeds, 2] points."""
    groups = []
    for m in report["methods"]:
        mine = [r["metrics"] for r in report["runs"] if r["method"] == m]
        pick = lambda mets, word: next((v for k, v in mets.items() if k.startswith(word)), None)  # noqa: E731
        pts = [(pick(r, "recall"), pick(r, "precision")) for r in mine]
        groups.append(np.array([p for p in pts if None not in p], dtype=np.float64).reshape(-1, 2))
    return groups


def _cell(s: Mapping[str, Any]) -> str:
    if s["mean"] is None:
        return "-"
    return f"{s['mean']:.4g}" + ("" if s["std"] is None else f" ± {s['std']:.2g}")


def table(report: Mapping[str, Any], what: str = "summary") -> str:
    """A markdown table of report[what] ("summary", or "paired_vs_plain": differences from plain):
    a row per method (mean ± std over the seeds); the summary ends with the real-data row."""
    summary = report[what]
    if not summary:
        return "(plain did not run: no paired differences)"
    keys = list(next(iter(summary.values())))
    head = ["method", "pipeline", *keys]
    pipes = {r["method"]: r["pipeline"] for r in report["runs"]}
    rows = [[m, pipes[m], *(_cell(summary[m][k]) for k in keys)] for m in report["methods"] if m in summary]
    if what == "summary":
        ref = report["data_reference"]
        rows.append([f"data ({ref['split']} split)", "-", *(_fmt(ref["metrics"].get(k)) for k in keys)])
    return "\n".join("| " + " | ".join(map(str, r)) + " |" for r in [head, ["---"] * len(head), *rows])


def markdown(report: Mapping[str, Any]) -> str:
    """report.md: what was compared, the table (mean ± sample std over the seeds), the figures."""
    methods, ref = report["methods"], report["data_reference"]
    colours = ", ".join(f"{m} {c}" for m, c in report["colours"].items())
    defaults = "\n".join(
        f"- `{m}`: {i['summary']}; settings {json.dumps(i['settings'])}" for m, i in methods.items()
    )
    return f"""# Sampling methods compared on {report["bundle"]}

{report["n"]} samples per run, seeds {report["seeds"]}, against the {report["data"]} {report["split"]} split
({report["real_n"]} examples), on {report["provider"]}; stage options {json.dumps(report["options"])}.
Each cell: mean ± sample standard deviation (ddof=1) over n = {len(report["seeds"])} sampling seeds.
samples_per_s includes each run's one-off burn-in/calibration; proposals_per_sample counts the
generator proposals a kept sample cost (DGflow/DDLS: one proposal, then their steps). The last row
scores {ref["n"]} real examples of the train split (the ceiling).

{table(report)}

Differences from plain, paired by seed (method minus plain on the same seed; mean ± sample std,
ddof=1, n = {len(report["seeds"])}):

{table(report, "paired_vs_plain")}

Methods:
{defaults}

Samples (first seed): {", ".join(f"[{m}](samples_{m}.png)" for m in methods)}.
Precision vs recall, one point per method and seed ([precision_recall.png](precision_recall.png),
recall on x, precision on y, grid every 0.1): {colours}.
"""


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.4g}"
