"""DGflow refinement (Ansari et al., ICLR 2021): K steps of the bundle's refine/model.onnx on z."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ganflow.sampler.binding import FixedBinding, capture_rows
from ganflow.sampler.errors import InputError, NumericsError
from ganflow.sampler.runtime import CUDA
from ganflow.sampler.stages.base import BLOCK, REFINERS, BlockCache, Context, StageOptions, span

STREAM = 4  # the Langevin noise: a stream of its own (gaussian 0, latent-rs 1, flow 3)

# "Far": where a refinement has left the region the generator was trained on. One rule, used by
# `ganflow export` to pick a bundle's step size (export/dgflow_eta.py) and by sampling to warn:
# a refined latent z_K is far when |z_K| > FAR_MARGIN * max(|z_0|, sqrt(d) + 3) (sqrt(d) + 3: beyond
# it lie ~1% of N(0, I_d) draws, so small starting latents may still move within the prior's bulk);
# a refined sample x_K (export only) is far when it lies FAR_MARGIN times farther from the mean m
# of the unrefined samples G(z_0) than the farthest of them. NaN/inf is far.
FAR_MARGIN = 1.5
WARN_SHARE = 0.01  # sampling warns when more than 1% of the refined latents are far


def far_latents(z0: np.ndarray, z: np.ndarray) -> np.ndarray:
    """bool [N]: which refined latents z [N, d] are far from where they started, z0 [N, d]."""
    z0, z = np.asarray(z0, np.float64), np.asarray(z, np.float64)
    bound = FAR_MARGIN * np.maximum(np.linalg.norm(z0, axis=1), math.sqrt(z0.shape[1]) + 3.0)
    with np.errstate(invalid="ignore", over="ignore"):
        return ~(np.linalg.norm(z, axis=1) <= bound)


def far_samples(x0: np.ndarray, x: np.ndarray) -> np.ndarray:
    """bool [N]: which refined samples x [N, ...] lie beyond FAR_MARGIN times the spread of the
    unrefined samples x0 [M, ...] around their mean."""
    x0, x = np.asarray(x0, np.float64).reshape(len(x0), -1), np.asarray(x, np.float64).reshape(len(x), -1)
    mean = x0.mean(axis=0)
    spread = np.linalg.norm(x0 - mean, axis=1).max()
    with np.errstate(invalid="ignore", over="ignore"):
        return ~(np.linalg.norm(x - mean, axis=1) <= FAR_MARGIN * spread)


def far_warning(stats: dict, method: str = "dgflow", flag: str = "--dg-eta") -> str | None:
    """The one-line warning of a sampling report whose refinement moved too many latents far."""
    far, done = stats.get(f"{method}_far", 0), stats.get(f"{method}_refined", 0)
    if not done or far / done <= WARN_SHARE:
        return None
    step = stats.get(f"{method}_eta" if method == "dgflow" else f"{method}_eps")
    smaller = f" (e.g. {flag} {step / 10:g})" if step else ""
    return (
        f"{method} moved {far:,} of {done:,} latents ({far / done:.1%}) beyond {FAR_MARGIN}x their "
        f"starting radius: the step is too large for this generator; try a smaller {flag}{smaller}"
    )


@dataclass(frozen=True)
class DGflowOptions(StageOptions):
    prefix = "dg"
    steps: int | None = None  # K
    eta: float | None = None  # step size
    gamma: float | None = None  # noise scale (0: deterministic)
    f: str | None = None  # the f-divergence the refine graph was exported for


@REFINERS.register("dgflow")
class DGflow:
    """z_{k+1} = z_k + eta s(d) grad_z d(G(z_k)) + sqrt(2 eta gamma) xi_k (DGflow eq. 13, in the
    latent space; the step is one ONNX graph with the gradient inside, export/refine.py).

    xi_k for sample i comes from rng([seed, 4, block(i), k]), so sample i depends only on the
    seed and i. On CUDA the latents stay on the device between steps (I/O binding); with
    --cuda-graph each step is a CUDA-graph replay (two captured sessions hand z back and forth)."""

    needs = ("refine",)
    Options = DGflowOptions

    method, stream = "dgflow", STREAM  # what a subclass (ddls) changes, with needs and Options
    hint = "lower --dg-eta or --dg-steps"  # what to do about NaN/inf latents

    def __init__(self, ctx: Context, options: StageOptions) -> None:
        self.ctx = ctx
        comp = ctx.bundle.component(self.needs[0], self.method)  # the step graph
        self.session = None if ctx.runtime.cuda_graph else ctx.runtime.session(comp)
        self.names = [i["name"] for i in comp.inputs]  # z, noise, eta, gamma
        self.output = comp.outputs[0]["name"]
        self.d = int(comp.inputs[0]["shape"][1])
        self.steps, self.eta, self.gamma, self.stats = self._configure(
            options, ctx.bundle.defaults(self.method)
        )
        self.cuda = ctx.runtime.provider == CUDA
        self.cache = BlockCache(max_entries=2 * self.steps + 2)  # (block, step) -> noise
        self.comp = comp
        self._pairs: dict[int, tuple[FixedBinding, FixedBinding]] = {}  # rows -> (ping, pong)

    def _configure(self, options: DGflowOptions, defaults: dict) -> tuple[int, float, float, dict]:
        """(steps, eta, gamma, stats) from the options over the bundle's defaults, checked."""
        opts = options.resolved(defaults)
        eta, gamma, steps, f = float(opts["eta"]), float(opts["gamma"]), opts["steps"], opts["f"]
        if not (math.isfinite(eta) and eta > 0 and math.isfinite(gamma) and gamma >= 0):
            raise InputError(f"dgflow needs --dg-eta > 0 and --dg-gamma >= 0, got {eta}, {gamma}")
        if int(steps) != steps or steps < 0:
            raise InputError(f"--dg-steps must be an integer >= 0, got {steps}")
        if f != defaults["f"]:
            raise InputError(
                f"--dg-f {f}: this bundle's refine graph was exported for f={defaults['f']} "
                "(f is fixed at export); drop --dg-f or export the run with another f"
            )
        stats = {"dgflow_steps": int(steps), "dgflow_eta": eta, "dgflow_gamma": gamma, "dgflow_f": f}
        return int(steps), eta, gamma, {**stats, "dgflow_seconds": 0.0}

    def _count_far(self, z0: np.ndarray, z: np.ndarray) -> None:
        """Count the refined latents that went far (far_latents), for the report's warning."""
        self.stats[f"{self.method}_far"] = self.stats.get(f"{self.method}_far", 0) + int(
            far_latents(z0, z).sum()
        )
        self.stats[f"{self.method}_refined"] = self.stats.get(f"{self.method}_refined", 0) + len(z)

    def _noise_block(self, b: int, k: int) -> np.ndarray:
        return self.cache.get(
            (b, k),
            lambda: self.ctx.block_rng(self.stream, b, k).standard_normal((BLOCK, self.d), dtype=np.float32),
        )

    def noise(self, lo: int, hi: int, k: int) -> np.ndarray:
        """xi [hi - lo, d] for step k of samples lo..hi-1."""
        return span(lo, hi, lambda b: self._noise_block(b, k))

    def _check(self, z: np.ndarray, k: int) -> None:
        if not np.isfinite(z).all():
            raise NumericsError(
                f"{self.method}: NaN/inf latents after step {k} of {self.steps} (eta {self.eta}, "
                f"gamma {self.gamma}): {self.hint}"
            )

    def _run_cpu(self, z: np.ndarray, lo: int, hi: int) -> np.ndarray:
        eta, gamma = np.array(self.eta, np.float32), np.array(self.gamma, np.float32)
        for k in range(self.steps):
            feeds = dict(zip(self.names, (z, self.noise(lo, hi, k), eta, gamma), strict=True))
            (z,) = self.session.run([self.output], feeds)
            self._check(z, k + 1)
        return z

    def _run_bound(self, z: np.ndarray, lo: int, hi: int, device: str = "cuda") -> np.ndarray:
        """The same steps with z kept in `device` memory through I/O binding (on CUDA: only the
        noise goes up, z comes back once). Tested against _run_cpu with device "cpu"."""
        ort = self.ctx.runtime.ort
        on_dev = lambda a: ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(a), device, 0)  # noqa: E731
        z_dev = on_dev(z)
        scalars = [on_dev(np.array(self.eta, np.float32)), on_dev(np.array(self.gamma, np.float32))]
        io = self.session.io_binding()
        for k in range(self.steps):
            for name, v in zip(self.names, [z_dev, on_dev(self.noise(lo, hi, k)), *scalars], strict=True):
                io.bind_ortvalue_input(name, v)
            io.bind_output(self.output, device, 0)
            self.session.run_with_iobinding(io)
            z_dev = io.get_outputs()[0]
            io.clear_binding_inputs()
            io.clear_binding_outputs()
        z = z_dev.numpy()
        self._check(z, self.steps)
        return z

    def _pair(self, rows: int) -> tuple[FixedBinding, FixedBinding]:
        """Two bindings of the step on fixed buffers a, b: ping maps a -> b, pong b -> a; the
        noise and step sizes are buffers they share."""
        if rows not in self._pairs:
            rt = self.ctx.runtime
            z, noise, eta, gamma = self.names
            a = rt.ort.OrtValue.ortvalue_from_shape_and_type((rows, self.d), np.float32, rt.ort_device, 0)
            b = rt.ort.OrtValue.ortvalue_from_shape_and_type((rows, self.d), np.float32, rt.ort_device, 0)
            ins = {z: (self.d,), noise: (self.d,), eta: None, gamma: None}
            ping = FixedBinding(
                rt.session(self.comp, f"{self.method}-ping-{rows}"), rt.ort, rt.ort_device, rows, ins,
                {self.output: (self.d,)}, shared={z: a, self.output: b},
            )  # fmt: skip
            ping.set(eta, np.array(self.eta, np.float32))
            ping.set(gamma, np.array(self.gamma, np.float32))
            common = {k: ping.values[k] for k in (noise, eta, gamma)}
            pong = FixedBinding(
                rt.session(self.comp, f"{self.method}-pong-{rows}"), rt.ort, rt.ort_device, rows, ins,
                {self.output: (self.d,)}, shared={z: b, self.output: a, **common},
            )  # fmt: skip
            self._pairs[rows] = ping, pong
        return self._pairs[rows]

    def _run_graph(self, z: np.ndarray, lo: int, hi: int) -> np.ndarray:
        """The steps on fixed buffers (--cuda-graph: each run after the first replays a capture).
        The buffers hold max(batch) rows; a smaller batch is zero-padded."""
        rows = capture_rows(self._pairs, len(z))
        noise = [self.noise(lo, hi, k) for k in range(self.steps)]
        with self.ctx.runtime.graph_lock:
            ping, pong = self._pair(rows)
            ping.set(self.names[0], z)
            for k in range(self.steps):
                step = ping if k % 2 == 0 else pong
                step.set(self.names[1], noise[k])
                step.run()
            # after an odd number of steps z is in b (ping's output), after an even number in a
            z = ping.get(self.output if self.steps % 2 else self.names[0], hi - lo)
        self._check(z, self.steps)
        return z

    def __call__(self, z: np.ndarray, lo: int, hi: int) -> np.ndarray:
        """z [hi - lo, d] -> refined z [hi - lo, d] float32."""
        t0 = time.perf_counter()
        z0 = z = np.ascontiguousarray(z, dtype=np.float32)
        if self.ctx.runtime.cuda_graph:
            z = self._run_graph(z, lo, hi)
        elif self.cuda:
            z = self._run_bound(z, lo, hi)
        else:
            z = self._run_cpu(z, lo, hi)
        self._count_far(z0, z)
        self.stats[f"{self.method}_seconds"] += time.perf_counter() - t0
        return z
