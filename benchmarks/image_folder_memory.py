"""Peak memory of training on an image folder (read lazily from its uint8 cache) against the same
images held in memory.

Usage: OMP_NUM_THREADS=1 python benchmarks/image_folder_memory.py [--n 20000] [--size 32] [--steps 300]

Writes N generated RGB PNGs (smooth colour fields with noise) into --work, then trains the same
DCGAN (width 32, batch 64, --steps steps, CPU, one thread) in a fresh child process per case and
reads its peak RSS from os.wait4:
  baseline      the first 256 images as a folder: torch, the networks and the optimizers
  folder-first  the whole folder, first use: the images are decoded into the uint8 .npy cache
  folder        the whole folder again: batches are read from the cache (positioned reads)
  in-memory     the same images as an [N, H, W, C] uint8 .npy, decoded into float32 in memory
The in-training evaluation is stubbed out in these four (its reference set is bounded by
REAL_N = 10 000 examples, not by N); `cli` is the plain `ganflow train gan --data FOLDER` with its
final evaluation, for the full picture. The cap: the baseline plus a quarter of the decoded float32
size; the folder runs must stay under it. Writes benchmarks/results/image_folder_memory.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ganflow.sampler.images import encode_png


def make_folder(folder: Path, n: int, size: int, seed: int = 0) -> None:
    """n RGB PNGs of size x size: a random colour gradient plus noise (compressible, image-like)."""
    if folder.is_dir() and len(list(folder.glob("*.png"))) == n:
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0.0, 1.0, size)
    for lo in range(0, n, 1000):
        k = min(1000, n - lo)
        a, b = rng.uniform(0, 255, (2, k, 1, 1, 3))
        mix = (ramp[None, :, None, None] + ramp[None, None, :, None]) / 2
        img = a * (1 - mix) + b * mix + rng.normal(0, 12, (k, size, size, 3))
        img = np.clip(img, 0, 255).astype(np.uint8)
        for i in range(k):
            (folder / f"{lo + i:06d}.png").write_bytes(encode_png(img[i]))


def child(data: str, run_dir: str, steps: int) -> None:
    """Train the benchmark's DCGAN on `data` (in this process) with evaluation stubbed out."""
    import torch

    import ganflow.training.gan as gan
    from ganflow.sampler.data import load_dataset
    from ganflow.training import TrainConfig, default_components

    torch.set_num_threads(1)
    gan.TrainingEval = lambda *a, **k: lambda x: {}  # noqa: E731  the data path only
    ds = load_dataset(data)
    cfg = TrainConfig(steps=steps, batch_size=64, eval_every=steps, sample_every=steps, ckpt_every=steps)
    gan.train_gan(run_dir, ds, default_components(ds.spec, width=32), cfg, progress=False, device="cpu")
    print(json.dumps({"lazy": type(ds.x).__name__, "n_train": len(ds.x)}))


def measure(cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run `cmd`; its peak RSS (MiB, from os.wait4) and wall time."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)  # the child's own rusage
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stderr[-2000:]}")
    last = stdout.strip().splitlines()[-1] if stdout.strip() else ""
    info = json.loads(last) if last.startswith("{") else {}
    return {"peak_rss_mib": usage.ru_maxrss / 1024, "seconds": time.perf_counter() - t0, **info}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--work", default="/tmp/ganflow-image-folder-memory")
    ap.add_argument("--out", default="benchmarks/results/image_folder_memory.json")
    ap.add_argument("--child", nargs=3, metavar=("DATA", "RUN", "STEPS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.child[0], args.child[1], int(args.child[2]))
    work = Path(args.work)
    folder, small = work / "folder", work / "small"
    t0 = time.perf_counter()
    make_folder(folder, args.n, args.size)
    gen_s = time.perf_counter() - t0
    shutil.rmtree(small, ignore_errors=True)
    small.mkdir()
    for p in sorted(folder.glob("*.png"))[:256]:
        shutil.copyfile(p, small / p.name)
    cache = work / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    env = {"GANFLOW_CACHE": str(cache), "OMP_NUM_THREADS": "1"}

    def train(data: Path, name: str) -> dict[str, float]:
        shutil.rmtree(work / f"run-{name}", ignore_errors=True)
        cmd = [sys.executable, __file__, "--child", str(data), str(work / f"run-{name}"), str(args.steps)]
        r = measure(cmd, env)
        print(f"{name:>13}: peak RSS {r['peak_rss_mib']:7.1f} MiB  ({r['seconds']:.1f} s)", flush=True)
        return r

    runs = {"baseline": train(small, "baseline"), "folder-first": train(folder, "folder-first")}
    runs["folder"] = train(folder, "folder")
    cached = next((cache / "image-folders").glob("folder-*.npy"))
    np.save(work / "array.npy", np.load(cached))  # the same images, [N, H, W, C] uint8
    runs["in-memory"] = train(work / "array.npy", "in-memory")
    shutil.rmtree(work / "run-cli", ignore_errors=True)
    cli = [sys.executable, "-m", "ganflow.sampler.cli", "train", "gan", "--data", str(folder)]
    cli += ["--out", str(work / "run-cli"), "--steps", str(args.steps), "--width", "32", "--no-progress"]
    cli += ["--eval-every", str(args.steps), "--device", "cpu"]
    runs["cli"] = measure(cli, env)
    print(f"{'cli':>13}: peak RSS {runs['cli']['peak_rss_mib']:7.1f} MiB  ({runs['cli']['seconds']:.1f} s)")

    pixels = args.n * 3 * args.size * args.size
    base = runs["baseline"]["peak_rss_mib"]
    cap = base + pixels * 4 / 4 / 2**20
    result = {
        "n_images": args.n,
        "image_shape": [3, args.size, args.size],
        "steps": args.steps,
        "decoded_uint8_mib": pixels / 2**20,
        "decoded_float32_mib": pixels * 4 / 2**20,
        "png_folder_mib": sum(p.stat().st_size for p in folder.glob("*.png")) / 2**20,
        "generate_seconds": gen_s,
        "runs": runs,
        "above_baseline_mib": {k: r["peak_rss_mib"] - base for k, r in runs.items()},
        "cap_mib": cap,
        "cap_rule": "baseline peak + decoded float32 size / 4",
        "under_cap": {k: runs[k]["peak_rss_mib"] <= cap for k in ("folder-first", "folder", "in-memory")},
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(
        json.dumps(
            {k: result[k] for k in ("decoded_float32_mib", "above_baseline_mib", "under_cap")}, indent=1
        )
    )
    if not (result["under_cap"]["folder"] and result["under_cap"]["folder-first"]):
        raise SystemExit("the folder runs went over the cap")


if __name__ == "__main__":
    main()
