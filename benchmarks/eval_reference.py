"""Reference numbers for the metrics (torch-free): real vs real, noise, blur, classifier accuracy, timing.

Usage: python benchmarks/eval_reference.py --data ../shared/data/mnist.npz [--bundle B] [--out DIR]
Writes eval_reference.json (and prints it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from ganflow.sampler.data import load_dataset
from ganflow.sampler.evaluate import make_evaluator
from ganflow.sampler.metrics import FeatureNet

METRICS = ["fid", "is", "mode", "prdc"]


def blur(x: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """Separable Gaussian blur of [N, 1, H, W] images (reflect padding)."""
    r = int(3 * sigma)
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    pad = np.pad(x, ((0, 0), (0, 0), (r, r), (r, r)), mode="reflect")
    h = sum(k[i] * pad[:, :, :, i : i + x.shape[3]] for i in range(2 * r + 1))
    return sum(k[i] * h[:, :, i : i + x.shape[2], :] for i in range(2 * r + 1)).astype(np.float32)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--bundle", default=None, help="also time `ganflow eval` of 10k samples from it")
    ap.add_argument("--out", default="benchmarks/results")
    args = ap.parse_args()
    ev = make_evaluator(args.data, "test")
    test = load_dataset(args.data, split="test")
    train = load_dataset(args.data, split="train")
    net = FeatureNet()
    t0 = time.perf_counter()
    logits = net(test.x)["logits"]
    accuracy = float((logits.argmax(1) == test.labels).mean())
    rng = np.random.default_rng(0)
    cases = {
        "mnist_train_first10k": train.x[:10_000],
        "uniform_noise": rng.uniform(-1, 1, (10_000, 1, 28, 28)).astype(np.float32),
        "mnist_test_blur_sigma1": blur(test.x, 1.0),
        "mnist_test_blur_sigma2": blur(test.x, 2.0),
        "mnist_test_itself": test.x,
    }
    results = {name: ev(x, METRICS) for name, x in cases.items()}
    out = {
        "command": "python benchmarks/eval_reference.py " + " ".join(sys.argv[1:]),
        "reference": "MNIST test split (10k), features/logits of the shipped ganflow MNIST classifier",
        "classifier_test_accuracy": accuracy,
        "classifier_recorded": net.info.get("test_accuracy"),
        "cases_vs_test": results,
        "seconds": time.perf_counter() - t0,
        "python": platform.python_version(),
        "onnxruntime": ort.__version__,
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores",
    }
    if args.bundle:
        t1 = time.perf_counter()
        subprocess.run(
            ["ganflow", "eval", args.bundle, "--data", args.data, "-n", "10000", "--device", "cpu"],
            check=True,
            capture_output=True,
        )
        out["ganflow_eval_10k_cpu_seconds"] = time.perf_counter() - t1
        out["ganflow_eval_command"] = f"ganflow eval {args.bundle} --data {args.data} -n 10000 --device cpu"
    text = json.dumps(out, indent=2)
    print(text)
    Path(args.out, "eval_reference.json").write_text(text + "\n")


if __name__ == "__main__":
    main()
