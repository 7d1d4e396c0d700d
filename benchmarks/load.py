"""Load: 1,000,000 samples to disk in bounded memory (peak RSS), and 100 threads sharing sessions.

    python benchmarks/load.py --bundle BUNDLE --out-dir /tmp/load [--n 1000000] [--json results.json]

Each `ganflow sample` runs in its own process; its peak RSS is the kernel's high-water mark
(getrusage of the finished child). Output files are memory maps / streamed writes, so the RSS
should not grow with N: the script also runs N / 10 to show that.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnxruntime as ort


def _sample_process(bundle: str, n: int, out: Path, batch: int) -> dict:
    cmd = ["sample", bundle, "-n", str(n), "--out", str(out), "--device", "cpu", "--batch-size", str(batch)]
    code = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        f"p = subprocess.run([sys.executable, '-m', 'ganflow.sampler.cli', *{cmd!r}, '--overwrite'],\n"
        "                   stdout=subprocess.DEVNULL)\n"
        "dt = time.perf_counter() - t\n"
        "print(p.returncode, dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    rc, seconds, maxrss_kib = res.stdout.split()
    if int(rc) != 0:
        raise SystemExit(f"ganflow sample failed: {res.stderr}")
    size = sum(p.stat().st_size for p in ([out] if out.is_file() else out.rglob("*")))
    return {
        "n": n,
        "out": out.name,
        "seconds": float(seconds),
        "samples_per_s": n / float(seconds),
        "peak_rss_mib": int(maxrss_kib) / 1024,
        "output_mib": size / 2**20,
    }


def _threads(bundle: str, threads: int, per_call: int) -> dict:
    from ganflow.sampler.bundle import load_bundle
    from ganflow.sampler.pipeline import Pipeline
    from ganflow.sampler.runtime import Runtime

    b, rt = load_bundle(bundle), Runtime("cpu")
    errors: list[str] = []
    lock = threading.Lock()

    def call(seed: int) -> float:
        try:
            pipe = Pipeline(b, rt, seed=seed)
            return float(sum(x.sum() for _, _, x in pipe.generate(per_call, 250)))
        except Exception as e:  # noqa: BLE001  counted and reported
            with lock:
                errors.append(repr(e))
            return float("nan")

    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        sums = list(pool.map(call, range(threads)))
    seconds = time.perf_counter() - t
    again = call(7)  # the same seed alone gives the same samples
    return {
        "threads": threads,
        "samples_per_call": per_call,
        "sessions": len(rt._sessions),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "seconds": seconds,
        "samples_per_s": threads * per_call / seconds,
        "deterministic": bool(np.isclose(sums[7], again, rtol=0, atol=0)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--out-dir", type=Path, required=True)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--batch-size", type=int, default=1024)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    runs = []
    for n, name in ((args.n // 10, "small.npy"), (args.n, "big.npy"), (args.n, "big.npz")):
        runs.append(_sample_process(args.bundle, n, args.out_dir / name, args.batch_size))
        print(json.dumps(runs[-1]), flush=True)
        (args.out_dir / name).unlink()
    threads = _threads(args.bundle, 100, 1000)
    print(json.dumps(threads), flush=True)
    result = {
        "command": "python benchmarks/load.py " + " ".join(sys.argv[1:]),
        "bundle": json.loads((Path(args.bundle) / "config.json").read_text())["data"],
        "sample_runs": runs,
        "threads": threads,
        "machine": f"{platform.processor() or platform.machine()}, {len(os.sched_getaffinity(0))} cores",
        "python": platform.python_version(),
        "onnxruntime": ort.__version__,
        "date": time.strftime("%Y-%m-%d"),
        "max_rss_self_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
