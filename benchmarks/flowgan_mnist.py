"""Flow-GAN on MNIST: MLE vs ADV vs Hybrid (test NLL in nats and bits/dim, MODE, FID, NLL curves).

Scaled down for CPU (see SCALE): a narrower NICE than the authors' and a few thousand steps or less.

    python benchmarks/flowgan_mnist.py train     # the three runs, one after another (one thread)
    python benchmarks/flowgan_mnist.py report [--with-best]  # export, `ganflow eval`, results files

Every number in benchmarks/results/flowgan_mnist.{md,json,png} comes from these two commands.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = os.environ.get("MNIST", "/work/shared/data/mnist.npz")
RUNS = ROOT / "runs" / "flowgan-mnist"
RESULTS = ROOT / "benchmarks" / "results"
OBJECTIVES = ("mle", "adv", "hybrid")
LAMBDA = 0.1  # the slides' MNIST hybrid
SCALE = {  # the authors: hidden 1000, depth 6 (23.1M parameters), many more steps
    "arch": "nice",
    "hidden": "500",
    "depth": "3",
    "couplings": "4",
    "critic-width": "32",
    "steps": "1000",
    "eval-every": "250",
    "sample-every": "500",
    "ckpt-every": "250",
}
PAPER = {"mle": (7.42, -3334.56), "adv": (9.24, -1604.09), "hybrid": (9.37, -3342.95)}  # Table 1
EVAL_N = 10_000


def ganflow(*args: str) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "ganflow.sampler.cli", *args]
    print("$ ganflow " + " ".join(args), flush=True)
    return subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout


def train_args(obj: str) -> list[str]:
    args = ["train", "flowgan", "--data", DATA, "--objective", obj, "--lambda", str(LAMBDA)]
    args += [x for k, v in SCALE.items() for x in (f"--{k}", v)]
    return args + ["--device", "cpu", "--no-progress", "--out", str(RUNS / obj)]


def train() -> None:
    for obj in OBJECTIVES:
        if (RUNS / obj / "config.json").exists():
            continue
        t0 = time.time()
        print(ganflow(*train_args(obj)), f"({time.time() - t0:.0f} s)", flush=True)


def curves() -> dict[str, list[dict]]:
    out = {}
    for obj in [o for o in OBJECTIVES if (RUNS / o / "metrics.jsonl").exists()]:
        lines = [json.loads(x) for x in (RUNS / obj / "metrics.jsonl").read_text().splitlines() if x.strip()]
        out[obj] = [r for r in lines if r["kind"] == "eval"]
    return out


def plot(curve: dict[str, list[dict]], path: Path) -> dict:
    """Validation NLL (nats/image) against the step, one curve per objective (blue, red, green)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from flowgan_plot import line_png

    series = [
        (np.array([r["step"] for r in rows]), np.array([r["val_nll_nats"] for r in rows]))
        for rows in curve.values()
    ]
    png, axes = line_png(series)
    path.write_bytes(png)
    return {"file": path.name, "curves": list(curve), **axes}


def evaluate(run: Path, bundle: Path) -> dict:
    if not bundle.exists():
        ganflow("export", str(run), "--out", str(bundle))
    out = bundle.with_suffix(".eval.json")  # kept: a second report reuses it
    args = ["eval", str(bundle), "--data", DATA, "-n", str(EVAL_N), "--metrics", "nll,mode,fid"]
    if not out.exists():
        ganflow(*args, "--device", "cpu", "--out", str(out))
    meta = json.loads((run / "config.json").read_text())
    return {"step": meta["summary"]["step"], **json.loads(out.read_text())["metrics"]}


def report(with_best: bool = False) -> None:
    """Final checkpoints (and, with --with-best, the best-validation-NLL ones) -> results files."""
    rows = {}
    for obj in [o for o in OBJECTIVES if (RUNS / o / "model.safetensors").exists()]:
        rows[f"{obj}/final"] = evaluate(RUNS / obj, RUNS / "bundles" / f"{obj}-final")
        best = json.loads((RUNS / obj / "config.json").read_text())["summary"]["best"]["step"]
        if with_best and best != rows[f"{obj}/final"]["step"]:  # else the best checkpoint is the final one
            rows[f"{obj}/best-val"] = evaluate(RUNS / obj / "best", RUNS / "bundles" / f"{obj}-best")
    curve = curves()
    RESULTS.mkdir(parents=True, exist_ok=True)
    axes = plot(curve, RESULTS / "flowgan_mnist_nll.png")
    record = {
        "plot": axes,
        "scale": SCALE,
        "lambda": LAMBDA,
        "commands": {obj: "ganflow " + " ".join(train_args(obj)) for obj in OBJECTIVES},
        "eval_command": f"ganflow eval BUNDLE --data {DATA} -n {EVAL_N} --metrics nll,mode,fid --device cpu",
        "results": rows,
        "curves": {
            o: [{k: r[k] for k in ("step", "val_nll_nats", "time_s")} for r in c] for o, c in curve.items()
        },
        "paper_table1": {k: {"mode": v[0], "nll_nats": v[1]} for k, v in PAPER.items()},
    }
    (RESULTS / "flowgan_mnist.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    print(table(rows))


def table(rows: dict[str, dict]) -> str:
    """Markdown rows: checkpoint, step, test NLL (nats, bits/dim), MODE, FID, and the paper's Table 1."""
    lines = [
        "| objective / checkpoint | step | test NLL (nats/image) | test NLL (bits/dim) | MODE | FID | "
        "paper MODE | paper NLL (nats) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in rows.items():
        v = {p: next(x for k, x in r.items() if k.startswith(p)) for p in ("mode", "fid")}
        nats, bpd = r["nll10k_mnist-test_nats"], r["nll10k_mnist-test_bpd"]
        paper = PAPER[name.split("/")[0]]
        lines.append(
            f"| {name} | {r['step']} | {nats:.1f} | {bpd:.3f} | {v['mode']:.3f} | {v['fid']:.1f} "
            f"| {paper[0]} | {paper[1]} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1] == "train":
        train()
    else:
        report(with_best="--with-best" in sys.argv)
