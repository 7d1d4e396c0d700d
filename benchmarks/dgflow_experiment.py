"""Experiment: base GAN vs DGflow refinement (issue 6) on MNIST and on the 2-D toys.

Usage (the runs come from `ganflow train gan ...`, see benchmarks/results/dgflow.md):
  python benchmarks/dgflow_experiment.py --runs runs/dgflow/mnist-bce runs/dgflow/mnist-wgan \
      --data /work/shared/data/mnist.npz --work runs/dgflow/bundles --n 5000 --seeds 0 \
      --out benchmarks/results/dgflow_mnist.json
  python benchmarks/dgflow_experiment.py --runs runs/dgflow/g25-wgan runs/dgflow/swiss-wgan \
      --work runs/dgflow/bundles --n 5000 --seeds 0 --out benchmarks/results/dgflow_toy2d.json

Each run is exported with `ganflow.export.export_bundle` (refine/model.onnx included); then the
latents of samples 0..n-1 are refined with the bundle's refine graph on onnxruntime (CPU, one
thread), the noise of step k for sample i drawn exactly as the sampler's dgflow stage does
(`DGflow.noise`), so the samples at step K are those of `ganflow sample --method dgflow
--dg-steps K`. Metrics at steps 0 (the base GAN), 5, ..., 25 with the sampler's metrics:
FID + precision/recall (k = 3) against 10k MNIST test images, in the ganflow classifier's
features; on 2-D data FID of the points, and for 25 Gaussians the high-quality rate and modes.
`python benchmarks/dgflow_experiment.py --table RESULTS.json` prints the markdown tables;
`--train-seed-table A.json B.json ...` groups runs named NAME-s0, NAME-s1, ... (training seeds)
and prints mean +- std over the training seeds per step and each seed's FID change.
--f js|logd exports a second refine graph with that f (the graph's f is fixed at export).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")


def export(run: Path, work: Path, f: str) -> Path:
    """The run's bundle (exported once); for f != kl its refine graph is swapped for one with f."""
    import torch

    from ganflow.export import export_bundle
    from ganflow.export.graph import export_graph
    from ganflow.export.refine import refine_graphs
    from ganflow.models import load_modules
    from ganflow.sampler.bundle import MANIFEST, sha256_file

    torch.set_num_threads(1)
    out = work / run.name
    if not (out / MANIFEST).is_file():
        export_bundle(run, out, log=print)
    if f == "kl":
        return out
    alt = work / f"{run.name}-{f}"
    if not (alt / MANIFEST).is_file():
        import shutil

        shutil.copytree(out, alt, dirs_exist_ok=True)
        meta, modules = load_modules(run)
        (graph,) = refine_graphs(modules, {**meta, "sampling_defaults": {"dgflow": {"f": f}}})
        export_graph(graph, alt / graph.spec.path)
        manifest = json.loads((alt / MANIFEST).read_text())
        manifest["components"]["refine"]["sha256"] = sha256_file(alt / graph.spec.path)
        manifest["defaults"]["dgflow"]["f"] = f
        (alt / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return alt


def refine_curve(bundle_dir: Path, ev, n: int, seed: int, eta: float, gamma: float, record: list[int]):
    """Metrics of samples 0..n-1 after k DGflow steps, for k in `record`; and the latents."""
    from ganflow.sampler.bundle import load_bundle
    from ganflow.sampler.runtime import Runtime
    from ganflow.sampler.stages import Context, NoOptions
    from ganflow.sampler.stages.decode import Decoder
    from ganflow.sampler.stages.dgflow import DGflow, DGflowOptions
    from ganflow.sampler.stages.gaussian import GaussianOptions, GaussianProposal

    bundle = load_bundle(bundle_dir)
    ctx = Context(bundle, Runtime("cpu", threads=1), seed)
    z = GaussianProposal(ctx, GaussianOptions())(0, n)
    stage, decode = DGflow(ctx, DGflowOptions(eta=eta, gamma=gamma)), Decoder(ctx, NoOptions())
    scalars = {"eta": np.array(eta, np.float32), "gamma": np.array(gamma, np.float32)}
    rows, xs, step_s, bs = [], {}, 0.0, 500
    for k in range(max(record) + 1):
        if k in record:
            x = np.concatenate([decode(z[i : i + bs]) for i in range(0, n, bs)])
            t0 = time.perf_counter()
            metrics = ev(x, ["fid", "prdc", "modes"] if ev.modes is not None else ["fid", "prdc"])
            rows.append({"step": k, **metrics, "metric_s": time.perf_counter() - t0})
            xs[k] = x
            print(
                f"  seed {seed} step {k:2d}: " + "  ".join(f"{a}={b:.4g}" for a, b in metrics.items()),
                flush=True,
            )
        if k == max(record):
            break
        t0 = time.perf_counter()
        for i in range(0, n, bs):
            feeds = {"z": z[i : i + bs], "noise": stage.noise(i, min(i + bs, n), k), **scalars}
            (z[i : i + bs],) = stage.session.run(None, feeds)
        stage._check(z, k + 1)
        step_s += time.perf_counter() - t0
    return rows, xs, step_s / max(max(record), 1)


def table(results: dict) -> str:
    """Markdown: one row per (run, settings, step), metrics averaged over the seeds (std if > 1)."""
    lines = []
    for key, e in results.items():
        if key.startswith("_"):
            continue
        curves = [s["curve"] for s in e["seeds"].values()]
        names = [m for m in curves[0][0] if m not in ("step", "metric_s")]
        short = [m.split("_")[0] for m in names]
        lines += [
            f"\n{key} (seeds {', '.join(e['seeds'])}, n {e['n']})\n",
            "| step | " + " | ".join(short) + " |",
        ]
        lines.append("| --- " * (len(names) + 1) + "|")
        for i, row in enumerate(curves[0]):
            vals = [np.array([c[i][m] for c in curves], dtype=float) for m in names]
            cells = [f"{v.mean():.4g}" + (f" ({v.std():.2g})" if len(v) > 1 else "") for v in vals]
            lines.append(f"| {row['step']} | " + " | ".join(cells) + " |")
        sec = np.mean([s["seconds_per_step"] for s in e["seeds"].values()])
        lines.append(f"\nrefine step: {sec:.2f} s per step for {e['n']} samples (CPU, 1 thread)")
    return "\n".join(lines)


def metric_key(row: dict, prefix: str) -> str:
    """The row's metric named prefix... (names carry n and the split, e.g. fid2k_mnist-test)."""
    (key,) = [k for k in row if k.startswith(prefix)]
    return key


def train_seed_table(files: list[str], metrics=("fid", "precision", "recall")) -> str:
    """Markdown: runs named NAME-sK (K = training seed) grouped by NAME, one sampling seed each;
    per step the mean +- std (ddof 1) over the training seeds, then each seed's FID change."""
    groups: dict[str, dict[str, list]] = {}
    for f in files:
        for key, e in json.loads(Path(f).read_text()).items():
            if key.startswith("_"):
                continue
            name, _, setting = key.partition("|")
            base, _, tseed = name.rpartition("-s")
            if not tseed.isdigit():
                continue
            for sseed, s in e["seeds"].items():
                group = f"{base}|{setting}|n={e['n']}|sampling seed {sseed}"
                groups.setdefault(group, {})[tseed] = s["curve"]
    lines = []
    for group, by_seed in groups.items():
        seeds = sorted(by_seed, key=int)
        curves = [by_seed[t] for t in seeds]
        lines += [f"\n{group}, training seeds {', '.join(seeds)}\n"]
        lines += ["| step | " + " | ".join(metrics) + " |", "| --- " * (len(metrics) + 1) + "|"]
        for i, row in enumerate(curves[0]):
            cells = []
            for m in metrics:
                v = np.array([c[i][metric_key(c[i], m)] for c in curves], dtype=float)
                cells.append(f"{v.mean():.4g} +- {v.std(ddof=1):.3g}" if len(v) > 1 else f"{v[0]:.4g}")
            lines.append(f"| {row['step']} | " + " | ".join(cells) + " |")
        lines += ["", "| training seed | FID step 0 | FID last step | relative change | target (<= -10%) |"]
        lines.append("| --- | --- | --- | --- | --- |")
        for t, c in zip(seeds, curves, strict=True):
            a, b = c[0][metric_key(c[0], "fid")], c[-1][metric_key(c[-1], "fid")]
            met = "met" if b <= 0.9 * a else "not met"
            lines.append(f"| {t} | {a:.1f} | {b:.1f} (step {c[-1]['step']}) | {b / a - 1:+.1%} | {met} |")
        rel = np.array([c[-1][metric_key(c[-1], "fid")] / c[0][metric_key(c[0], "fid")] - 1 for c in curves])
        if len(rel) > 1:
            lines.append(f"| mean +- std | | | {rel.mean():+.1%} +- {rel.std(ddof=1):.1%} | |")
    return "\n".join(lines)


def main() -> None:
    if sys.argv[1:2] == ["--table"]:
        print(table(json.loads(Path(sys.argv[2]).read_text())))
        return
    if sys.argv[1:2] == ["--train-seed-table"]:
        print(train_seed_table(sys.argv[2:]))
        return
    p = argparse.ArgumentParser()
    p.add_argument("--runs", nargs="+", type=Path, required=True)
    p.add_argument("--data", default=None, help="MNIST path; 2-D runs use their own dataset name")
    p.add_argument("--work", type=Path, required=True)
    p.add_argument("--n", type=int, default=5000)
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--record", nargs="+", type=int, default=[0, 5, 10, 15, 20, 25])
    p.add_argument("--eta", type=float, default=0.1)
    p.add_argument("--gamma", type=float, default=0.01)
    p.add_argument("--f", default="kl", choices=["kl", "js", "logd"])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--png", action="store_true", help="2-D: before/after scatter plots next to --out")
    a = p.parse_args()

    from ganflow.sampler.evaluate import make_evaluator
    from ganflow.sampler.images import encode_png, image_grid, scatter_png, to_uint8

    results = json.loads(a.out.read_text()) if a.out.is_file() else {}
    for run in a.runs:
        t0 = time.perf_counter()
        bundle = export(run, a.work, a.f)
        export_s = time.perf_counter() - t0
        manifest = json.loads((bundle / "config.json").read_text())
        dataset = manifest["data"]["dataset"]
        ev = make_evaluator(a.data or dataset, "test", dataset=dataset if a.data else None, real_n=10_000)
        key = f"{run.name}|f={a.f}|eta={a.eta:g}|gamma={a.gamma:g}"
        print(f"{key}: bundle {bundle} (export {export_s:.0f} s)", flush=True)
        entry = {
            "run": str(run),
            "train": manifest["provenance"]["train"],
            "train_steps": manifest["provenance"]["steps"],
            "f": a.f,
            "eta": a.eta,
            "gamma": a.gamma,
            "n": a.n,
            "seeds": {},
        }
        for seed in a.seeds:
            rows, xs, step_s = refine_curve(bundle, ev, a.n, seed, a.eta, a.gamma, a.record)
            entry["seeds"][str(seed)] = {"curve": rows, "seconds_per_step": step_s}
            last = max(a.record)
            if a.png and seed == a.seeds[0]:
                for k, tag in ((0, "before"), (last, "after")):
                    if len(manifest["data"]["shape"]) == 1:
                        ref = ev.modes.centers if ev.modes is not None else None
                        extent = 1.15 * float(np.abs(ev.real).max())
                        img = scatter_png(xs[k][:2000], reference=ref, extent=extent)
                    else:
                        img = image_grid(to_uint8(xs[k][:64], -1.0, 1.0))
                    setting = (
                        ""
                        if (a.f, a.eta, a.gamma) == ("kl", 0.1, 0.01)
                        else f"_{a.f}_eta{a.eta:g}_g{a.gamma:g}"
                    )
                    path = a.out.with_name(f"dgflow_{run.name}{setting}_{tag}.png")
                    path.write_bytes(encode_png(img))
        results[key] = entry
        results["_env"] = {
            "platform": platform.platform(),
            "cpu_threads": 1,
            "provider": "CPUExecutionProvider",
        }
        tmp = a.out.with_suffix(".tmp")
        tmp.write_text(json.dumps(results, indent=2) + "\n")
        os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
