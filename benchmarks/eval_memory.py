"""Peak memory of `ganflow eval`: 10k 2-D points and 2k MNIST samples, each in a fresh process.

Usage: OMP_NUM_THREADS=1 python benchmarks/eval_memory.py [--mnist ../shared/data/mnist.npz]
           [--bundle-points runs/g25-bundle] [--bundle-mnist runs/zoo-bundle] [--label after]

Cases (each `ganflow eval ... --device cpu` in its own child process; peak RSS from os.wait4, the
child's own getrusage ru_maxrss; Linux carries the parent's high-water mark over fork and exec into
the child's, so the parent stays small: the sample files are written by a child of their own):
  points-file   10 000 2-D points (.npy: gaussians25 train points plus noise) vs gaussians25 test
  mnist-file    2 000 MNIST train images (.npy, plus noise) vs the MNIST test split (classifier)
  points-bundle / mnist-bundle   the same counts drawn from a bundle (--bundle-points / -mnist)
  baseline      `ganflow --version`: the interpreter, numpy and the CLI
The results (and the metric values, to compare runs) go to benchmarks/results/eval_memory.json
under --label, which keeps the other labels' rows (e.g. before / after a change).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "eval_memory.json"
CLI = [sys.executable, "-m", "ganflow.sampler.cli"]


def peak(cmd: list[str]) -> dict:
    """Run `cmd`; its peak RSS (MiB, from os.wait4), wall time and stdout."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, text=True)
        _, status, usage = os.wait4(proc.pid, 0)  # the child's own rusage
        out.seek(0)
        text = out.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr.read()}")
    return {"peak_rss_mib": usage.ru_maxrss / 1024, "seconds": time.perf_counter() - t0, "stdout": text}


def readable(cmd: list[str], work: str) -> str:
    """The command as a user would type it: `python`, WORK/ for the sample files, ../shared."""
    text = " ".join("python" if c == sys.executable else c for c in cmd)
    return text.replace(work, "WORK").replace(str(ROOT.parent) + "/", "../")


def metrics_of(stdout: str) -> dict[str, float]:
    """The `name value` lines of `ganflow eval`'s output."""
    out = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and not line.startswith(" ("):
            try:
                out[parts[0]] = float(parts[1])
            except ValueError:
                pass
    return out


def sample_files(work: Path, mnist: Path | None) -> dict[str, Path]:
    """Seeded sample files: gaussians25 points and MNIST images, each plus a little noise."""
    from ganflow.sampler.data import load_dataset

    rng = np.random.default_rng(0)
    files = {}
    pts = np.asarray(load_dataset("gaussians25", split="train").x[:10_000], np.float32)
    files["points"] = work / "points.npy"
    np.save(files["points"], pts + 0.02 * rng.standard_normal(pts.shape).astype(np.float32))
    if mnist is not None:
        img = np.asarray(load_dataset(str(mnist), split="train").x[:2000], np.float32)
        files["mnist"] = work / "mnist.npy"
        np.save(files["mnist"], np.clip(img + 0.1 * rng.standard_normal(img.shape), -1, 1).astype(np.float32))
    return files


def cases(files: dict[str, Path], args: argparse.Namespace) -> dict[str, list[str]]:
    points, mnist = ["--data", "gaussians25", "-n", "10000"], ["--data", str(args.mnist), "-n", "2000"]
    out = {"baseline": [*CLI, "--version"]}
    out["points-file"] = [*CLI, "eval", str(files["points"]), *points]
    if args.bundle_points:
        out["points-bundle"] = [*CLI, "eval", args.bundle_points, *points, "--device", "cpu"]
    if args.mnist:
        out["mnist-file"] = [*CLI, "eval", str(files["mnist"]), *mnist]
        if args.bundle_mnist:
            out["mnist-bundle"] = [*CLI, "eval", args.bundle_mnist, *mnist, "--device", "cpu"]
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mnist", type=Path, default=ROOT.parent / "shared" / "data" / "mnist.npz")
    p.add_argument("--bundle-points", default=None)
    p.add_argument("--bundle-mnist", default=None)
    p.add_argument("--label", default="after", help="row label in the json, e.g. before / after")
    p.add_argument("--json", type=Path, default=RESULTS)
    args = p.parse_args()
    if not args.mnist.is_file():
        args.mnist = None
    with tempfile.TemporaryDirectory() as work:
        mnist = [] if args.mnist is None else [str(args.mnist)]
        subprocess.run([sys.executable, __file__, "--make-files", work, *mnist], check=True)
        files = {k: Path(work) / f"{k}.npy" for k in ("points", "mnist")}
        rows = {}
        for name, cmd in cases(files, args).items():
            r = peak(cmd)
            rows[name] = {
                "peak_rss_mib": round(r["peak_rss_mib"], 1),
                "seconds": round(r["seconds"], 2),
                "metrics": metrics_of(r["stdout"]),
                "command": readable(cmd, work),
            }
            mib, sec = r["peak_rss_mib"], r["seconds"]
            print(f"{args.label:>8} {name:<14} {mib:8.1f} MiB  {sec:6.1f} s", flush=True)
    doc = json.loads(args.json.read_text()) if args.json.is_file() else {}
    doc[args.label] = {
        "rows": rows,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "python": platform.python_version(),
    }
    args.json.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--make-files"]:  # the child that writes the sample files
        sample_files(Path(sys.argv[2]), Path(sys.argv[3]) if len(sys.argv) > 3 else None)
    else:
        main()
