"""Sampling speed: ganflow on onnxruntime vs the same weights in PyTorch (eager and compiled).

    python benchmarks/sampling.py BUNDLE [--batches 1,64,1024,16384] [--json out.json]

For every method the bundle supports (plain, flow, latent-rs, dgflow with 25 steps) and every
batch size, it times whole batches (latents drawn, every stage, the samples back on the host):
  - ort-cuda:      ganflow's pipeline on the onnxruntime CUDA provider (when present), fp32, no
                   CPU fallback allowed (the sampler's default)
  - ort-cuda-graph: the same with --cuda-graph (decode and DGflow steps replay captured graphs)
  - ort-cuda-fp16:  --cuda-graph --precision fp16, when the bundle was exported with --fp16
  - torch-cuda:    the same networks, weights from the bundle's model.safetensors, eager
  - torch-compile: torch.compile (--compile-mode; auto = reduce-overhead at batch <= 64,
                   max-autotune above; the row records the mode)
  - ort-cpu, torch-cpu: the same on the CPU
Medians of --reps timed batches after --warmup batches. Beside each large-batch figure, the
arithmetic floor: FLOPs per sample (torch.utils.flop_counter) over the measured matmul peak, and
bytes per sample (input + output + the weights read once per batch) over the measured copy
bandwidth; `floor_samples_per_s` is the smaller of the two ceilings.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from ganflow.models import load_modules
from ganflow.sampler.bundle import load_bundle
from ganflow.sampler.pipeline import METHODS as PRESETS
from ganflow.sampler.pipeline import Pipeline, stage_needs
from ganflow.sampler.runtime import Runtime
from ganflow.sampler.stages import options_from_flat

METHODS = ("plain", "flow", "latent-rs", "dgflow")
DG = {"steps": 25, "eta": 0.1, "gamma": 0.01}


# --- the methods in PyTorch ---------------------------------------------------------------------


def torch_methods(modules: dict, d: int, m: float) -> dict[str, Callable[[int, str], torch.Tensor]]:
    """name -> fn(batch, device) -> x [batch, ...] on the device (the same maths as the stages)."""
    G, D = modules["generator"], modules.get("critic")
    flow, W, C = modules.get("flow"), modules.get("weight"), modules.get("corrector")

    def plain(n, dev):
        return G(torch.randn(n, d, device=dev))

    def flow_prior(n, dev):
        z, _ = flow.sample_from(torch.randn(n, d, device=dev))
        return G(z)

    def latent_rs(n, dev):
        kept, have = [], 0
        while have < n:
            z = torch.randn(n, d, device=dev)
            z = z[torch.rand(n, device=dev) < W(z) / m]
            kept.append(z)
            have += len(z)
        return G(torch.cat(kept)[:n])

    def critic_logit(z):
        x = G(z)
        out = D(x)
        return (out + C(x) if C is not None else out).sum()

    def dgflow(n, dev):
        z = torch.randn(n, d, device=dev)
        noise_scale = (2 * DG["eta"] * DG["gamma"]) ** 0.5
        for _ in range(DG["steps"]):  # f = KL: s(d) = 1
            with torch.enable_grad():
                z = z.detach().requires_grad_(True)
                (g,) = torch.autograd.grad(critic_logit(z), z)
            z = z.detach() + DG["eta"] * g + noise_scale * torch.randn_like(z)
        return G(z)

    have = {
        "plain": (plain, True),
        "flow": (flow_prior, flow is not None),
        "latent-rs": (latent_rs, W is not None),
        "dgflow": (dgflow, D is not None),
    }
    return {k: fn for k, (fn, ok) in have.items() if ok}


# --- timing -------------------------------------------------------------------------------------


def _sync(dev: str) -> None:
    if dev == "cuda":
        torch.cuda.synchronize()


def time_batches(
    systems: dict[str, Callable[[], object]], dev: str, warmup: int, reps: int
) -> dict[str, list]:
    """Seconds per batch for each system, the systems' repetitions interleaved (A B C A B C ...)
    so that load from other processes on a shared machine hits all of them alike."""
    for run in systems.values():
        for _ in range(warmup):
            run()
    _sync(dev)
    out: dict[str, list[float]] = {name: [] for name in systems}
    for _ in range(reps):
        for name, run in systems.items():
            t = time.perf_counter()
            run()
            _sync(dev)
            out[name].append(time.perf_counter() - t)
    return out


def ort_runner(
    bundle, device: str, method: str, batch: int, threads: int | None, **opts
) -> Callable[[], object]:
    runtime = Runtime(device, threads=threads, **opts)
    pipe = Pipeline(
        bundle, runtime, method=method, options=options_from_flat({f"dg_{k}": v for k, v in DG.items()})
    )
    state = {"lo": 0}

    def run():
        lo = state["lo"]
        state["lo"] += batch
        for _, _, x in pipe.generate(lo + batch, batch, start=lo):
            return x

    return run


def torch_runner(fn, dev: str, batch: int) -> Callable[[], object]:
    def run():
        with torch.no_grad():
            return fn(batch, dev).cpu()

    return run


# --- the arithmetic floor -----------------------------------------------------------------------


def measured_peaks(dev: str) -> dict[str, float]:
    """Dense fp32 matmul FLOP/s and device-memory copy bandwidth, measured here."""
    n = 4096 if dev == "cuda" else 1024
    a, b = torch.randn(n, n, device=dev), torch.randn(n, n, device=dev)
    t = statistics.median(time_batches({"mm": lambda: a @ b}, dev, 2, 5)["mm"])
    big = torch.empty(64 * 2**20, device=dev)  # 256 MiB
    c = statistics.median(time_batches({"copy": lambda: big.clone()}, dev, 2, 5)["copy"])
    return {"matmul_flops_per_s": 2 * n**3 / t, "copy_bytes_per_s": 2 * big.numel() * 4 / c}


def floor(fn, modules, dev: str, batch: int, peaks: dict[str, float], x_bytes: int, d: int) -> dict:
    from torch.utils.flop_counter import FlopCounterMode

    probe = min(batch, 256)
    how = "counted"
    try:
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            fn(probe, dev)
        flops = counter.get_total_flops() / probe
    except RuntimeError:  # the counter cannot follow autograd.grad (DGflow): estimate instead
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            G, D = modules["generator"], modules["critic"]
            D(G(torch.randn(probe, d, device=dev)))
        per_pass = counter.get_total_flops() / probe  # one forward of G and D
        flops = DG["steps"] * 3 * per_pass + per_pass  # backward ~ 2x forward, then the decode
        how = "estimated: steps x 3 x forward(G + D) + decode"
    weights = sum(p.numel() * 4 for m in modules.values() for p in m.parameters())
    bytes_per_sample = x_bytes + 4 * d + weights / batch
    return {
        "flops": how,
        "flops_per_sample": flops,
        "bytes_per_sample": bytes_per_sample,
        "floor_samples_per_s": min(
            peaks["matmul_flops_per_s"] / max(flops, 1), peaks["copy_bytes_per_s"] / bytes_per_sample
        ),
    }


# --- the targets --------------------------------------------------------------------------

ORT_FP32 = ("ort-cuda", "ort-cuda-graph")  # the sampler's fp32 configurations on CUDA


def _sps(row: dict, system: str) -> float | None:
    return row[system]["samples_per_s"] if system in row else None


def target_of(row: dict) -> tuple[str, float, float] | None:
    """(what, measured ratio, required ratio) for a row that a target applies to, else None.

    CPU: ORT CPU >= PyTorch CPU at every batch size. CUDA, plain and dgflow: ganflow's faster fp32
    configuration >= 1.5x PyTorch eager at batch <= 64 and >= torch.compile at batch >= 1024."""
    if row["device"] == "cpu":
        if _sps(row, "ort-cpu") and _sps(row, "torch-cpu"):
            return "ort-cpu / torch-cpu", _sps(row, "ort-cpu") / _sps(row, "torch-cpu"), 1.0
        return None
    ort = max((_sps(row, k) or 0.0 for k in ORT_FP32), default=0.0)
    if row["method"] not in ("plain", "dgflow") or not ort:
        return None
    if row["batch"] <= 64 and _sps(row, "torch-cuda"):
        return "best ort-cuda fp32 / torch-cuda eager", ort / _sps(row, "torch-cuda"), 1.5
    if row["batch"] >= 1024 and _sps(row, "torch-compile"):
        return "best ort-cuda fp32 / torch.compile", ort / _sps(row, "torch-compile"), 1.0
    return None


def summary(rows: list[dict]) -> str:
    """A markdown table of every targeted row: the ratio, and by how much a missed target is missed."""
    lines = ["| device | method | batch | ratio | measured | target | verdict |", "| --- " * 7 + "|"]
    for row in rows:
        t = target_of(row)
        if t is None:
            continue
        what, ratio, need = t
        verdict = "met" if ratio >= need else f"missed by {100 * (1 - ratio / need):.0f}%"
        lines.append(
            f"| {row['device']} | {row['method']} | {row['batch']} | {what} | {ratio:.2f}x | "
            f">= {need:g}x | {verdict} |"
        )
    return "\n".join(lines) + "\n"


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bundle")
    ap.add_argument("--batches", default="1,64,1024,16384")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    ap.add_argument(
        "--compile-mode",
        default="auto",
        choices=["auto", "reduce-overhead", "max-autotune", "default"],
        help="torch.compile mode (max-autotune tunes each batch shape: minutes on a GPU)",
    )
    ap.add_argument("--devices", default="cpu,cuda", help="which of cpu, cuda to time (cuda where present)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--summary", type=Path, help="also write the targets table (markdown) here")
    ap.add_argument("--threads", type=int, help="CPU threads for both torch and onnxruntime [their defaults]")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    bundle = load_bundle(args.bundle)
    meta, modules = load_modules(Path(args.bundle) / "model.safetensors")
    d = bundle.latent_dim
    m = float(bundle.defaults("latent-rs").get("m", 3.0))
    x_bytes = int(np.prod(bundle.data_shape)) * 4
    present = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    devices = [d for d in present if d in args.devices.split(",")]
    has_ort_cuda = "CUDAExecutionProvider" in ort.get_available_providers()
    has_fp16 = any(c.variants for c in bundle.components.values())
    wanted = [x for x in args.methods.split(",") if x in PRESETS]
    methods = []
    for name in wanted:
        p = PRESETS.get(name)
        if all(c in bundle.components for c in stage_needs(p.proposal, p.select, p.refine)):
            methods.append(name)
    header = {
        "command": "python benchmarks/sampling.py " + " ".join(sys.argv[1:]),
        "bundle": {
            "path": args.bundle,
            "family": bundle.manifest.get("family"),
            "data": bundle.manifest["data"],
            "components": sorted(bundle.components),
        },
        "cpu": platform.processor() or platform.machine(),
        "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "torch": torch.__version__,
        "onnxruntime": ort.__version__,
        "ort_providers": ort.get_available_providers(),
        "threads": torch.get_num_threads(),
        "date": time.strftime("%Y-%m-%d"),
    }
    rows = []
    for dev in devices:
        mods = {k: v.to(dev).eval() for k, v in modules.items()}
        fns = torch_methods(mods, d, m)
        peaks = measured_peaks(dev)
        compiled = {}
        for method in methods:
            if method not in fns:
                continue
            for batch in map(int, args.batches.split(",")):
                work = batch * (DG["steps"] + 1 if method == "dgflow" else 1)
                reps = args.reps if work < 200_000 else max(3, args.reps // 3)
                systems: dict[str, Callable[[], object]] = {}
                systems[f"torch-{dev}"] = torch_runner(fns[method], dev, batch)
                if dev == "cpu" or has_ort_cuda:
                    systems[f"ort-{dev}"] = ort_runner(bundle, dev, method, batch, args.threads)
                if dev == "cuda" and has_ort_cuda:
                    systems["ort-cuda-graph"] = ort_runner(bundle, dev, method, batch, None, cuda_graph=True)
                    if has_fp16:
                        systems["ort-cuda-fp16"] = ort_runner(
                            bundle, dev, method, batch, None, cuda_graph=True, precision="fp16"
                        )
                if not args.no_compile and dev == "cuda":
                    mode = args.compile_mode
                    if mode == "auto":
                        mode = "reduce-overhead" if batch <= 64 else "max-autotune"
                    key = (method, mode)
                    if key not in compiled:
                        compiled[key] = torch.compile(fns[method], mode=mode, dynamic=False)
                    systems["torch-compile"] = torch_runner(compiled[key], dev, batch)
                row = {"device": dev, "method": method, "batch": batch}
                for system, times in time_batches(systems, dev, args.warmup, reps).items():
                    med = statistics.median(times)
                    row[system] = {"latency_s": med, "samples_per_s": batch / med, "reps": reps}
                if "torch-compile" in row:
                    row["torch-compile"]["mode"] = mode
                if batch >= 1024:
                    row["floor"] = floor(fns[method], mods, dev, batch, peaks, x_bytes, d)
                rows.append(row)
                print(json.dumps(row), flush=True)
                if args.json:  # after every row: a crash keeps what was measured
                    args.json.write_text(json.dumps({**header, "rows": rows}, indent=2) + "\n")
    if args.json:
        args.json.write_text(json.dumps({**header, "rows": rows}, indent=2) + "\n")
    print(summary(rows))
    if args.summary:
        args.summary.write_text(summary(rows))


if __name__ == "__main__":
    main()
