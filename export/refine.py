"""The DGflow refinement step as one ONNX graph: z, noise, eta, gamma -> z_next (gradient inside).

DGflow (Ansari et al., ICLR 2021, eq. 13 / the authors' code clear-nus/DGflow) refines latents by
the discretised gradient flow of the entropy-regularised f-divergence, pulled back through G:

    z_next = z + eta * s(d) * grad_z d(G(z)) [- eta * z] + sqrt(2 eta gamma) * noise,

with d(x) the critic logit (an estimate of log p_data/p_model; plus a density-ratio corrector C
when the run has one, d = D + C) and s(d) = 1 (KL), sigmoid(d) (JS), sigmoid(-d) (logD). The
optional prior term -z is DDLS's (the gradient of -||z||^2 / 2); DGflow has none (off by default):
the same builder exports refine/model.onnx (DGflow) and ddls/model.onnx (prior on, f = KL).

ONNX has no autodiff, so the gradient is traced: torch.func.grad over the frozen modules (weights
as constants, BatchNorm in eval mode) under make_fx(tracing_mode="symbolic") with the core ATen
decompositions, plus one of our own that writes aten.convolution_backward (input gradient only)
as the adjoint convolution (a transposed convolution for Conv2d, a convolution for
ConvTranspose2d), two that write the ReLU / LeakyReLU gradients as products with a mask, and one
that writes a slice's gradient as a constant pad (so no zeros are sized from the batch at run
time: the graph stays on the CUDA provider).
The traced ATen graph is then exported by the dynamo exporter with a dynamic batch axis like
every other graph.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.fx.experimental.proxy_tensor import make_fx

from ganflow.export.graph import DERIVED, Graph, GraphSpec
from ganflow.sampler.bundle import METHOD_DEFAULTS
from ganflow.sampler.ratio import density_ratio_problem

aten = torch.ops.aten

# s(d) of each f-divergence (DGflow eq. 13 with f'' written through the density ratio r = e^d)
SCALES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "kl": torch.ones_like,
    "js": torch.sigmoid,
    "logd": lambda d: torch.sigmoid(-d),
}


def _conv_input_grad(
    grad_out: torch.Tensor,
    inp: torch.Tensor,
    weight: torch.Tensor,
    bias_sizes: Any,
    stride: list[int],
    padding: list[int],
    dilation: list[int],
    transposed: bool,
    output_padding: list[int],
    groups: int,
    output_mask: list[bool],
) -> tuple[torch.Tensor | None, None, None]:
    """aten.convolution_backward with only the input gradient: the adjoint of the convolution.

    Conv (not transposed): dL/dx = conv_transpose(dL/dy, W) with the output padding that restores
    x's spatial size. Transposed conv: dL/dx = conv(dL/dy, W). Weights are constants here, so a
    request for the weight or bias gradient is an error (the step never needs them)."""
    if output_mask[1] or output_mask[2]:
        raise NotImplementedError("refine export: weight/bias gradients are not traced (weights are frozen)")
    if not output_mask[0]:
        return None, None, None
    if transposed:
        grad_in = aten.convolution(grad_out, weight, None, stride, padding, dilation, False, [0, 0], groups)
    else:
        k = weight.shape[2:]
        out_pad = [
            int(inp.shape[2 + i])
            - ((int(grad_out.shape[2 + i]) - 1) * stride[i] - 2 * padding[i] + dilation[i] * (k[i] - 1) + 1)
            for i in range(len(k))
        ]
        grad_in = aten.convolution(grad_out, weight, None, stride, padding, dilation, True, out_pad, groups)
    return grad_in, None, None


def _relu_grad(grad_out: torch.Tensor, x: torch.Tensor, threshold: float) -> torch.Tensor:
    """aten.threshold_backward (ReLU's gradient) as a product with the 0/1 mask: onnxruntime's
    CPU Where is single-threaded and was the step's slowest op on DCGANs at batch 64."""
    return grad_out * (x > threshold).to(grad_out.dtype)


def _leaky_relu_grad(
    grad_out: torch.Tensor, x: torch.Tensor, negative_slope: float, self_is_result: bool
) -> torch.Tensor:
    """aten.leaky_relu_backward as grad * (slope + (1 - slope) [x > 0]) (same reason as above)."""
    return grad_out * (negative_slope + (1.0 - negative_slope) * (x > 0).to(grad_out.dtype))


def _slice_grad(
    grad: torch.Tensor, input_sizes: list, dim: int, start: int, end: int, step: int
) -> torch.Tensor:
    """aten.slice_backward along a fixed-size axis as a constant pad of the gradient. The default
    (zeros of the input's size, then a scatter) builds the zeros from the batch size at run time:
    shape arithmetic that onnxruntime's CUDA provider would run on the CPU (export/cuda_check.py)."""
    dim = dim % len(input_sizes)
    size = input_sizes[dim]
    if dim == 0 or step != 1 or not isinstance(size, int):
        return torch._decomp.decompositions.slice_backward(grad, input_sizes, dim, start, end, step)
    start = min(max(start + size if start < 0 else start, 0), size)
    end = min(max(end + size if end < 0 else end, start), size)
    pad = [0, 0] * (len(input_sizes) - 1 - dim) + [start, size - end]
    return aten.constant_pad_nd(grad, pad, 0.0)


def _decompositions() -> dict:
    table = dict(torch._decomp.core_aten_decompositions())
    table[aten.convolution_backward.default] = _conv_input_grad
    table[aten.threshold_backward.default] = _relu_grad
    table[aten.leaky_relu_backward.default] = _leaky_relu_grad
    table[aten.slice_backward.default] = _slice_grad
    table.pop(aten.constant_pad_nd.default, None)  # kept whole: an ONNX Pad with constant pads
    return table


class Critic(nn.Module):
    """d(x) [N] = critic logit (+ corrector logit when there is one)."""

    def __init__(self, critic: nn.Module, corrector: nn.Module | None = None) -> None:
        super().__init__()
        self.critic, self.corrector = critic, corrector

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d = self.critic(x).reshape(x.shape[0])
        if self.corrector is not None:
            d = d + self.corrector(x).reshape(x.shape[0])
        return d


class DGflowStep(nn.Module):
    """One DGflow step (eager torch autograd): the reference the exported graph is checked against.

    forward(z [N, d], noise [N, d], eta [], gamma []) -> z_next [N, d]."""

    def __init__(self, generator: nn.Module, critic: nn.Module, f: str = "kl", prior: bool = False) -> None:
        super().__init__()
        if f not in SCALES:
            raise ValueError(f"unknown DGflow f {f!r}; choose one of: {', '.join(SCALES)}")
        self.generator, self.critic, self.f, self.prior = generator, critic, f, prior
        self.compute_dtype: torch.dtype | None = None  # fp16 variant: the gradient in fp16 (export/fp16.py)
        for p in self.parameters():
            p.requires_grad_(False)

    def _d_and_grad(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(grad_z d(G(z)) [N, d], d [N]): per-sample gradients, as the sum over the batch."""

        def total(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            d = self.critic(self.generator(z))
            return d.sum(), d

        return torch.func.grad(total, has_aux=True)(z)

    def forward(self, z: torch.Tensor, noise: torch.Tensor, eta: torch.Tensor, gamma: torch.Tensor):
        if self.compute_dtype is None:
            grad, d = self._d_and_grad(z)
        else:  # the gradient in the networks' precision, the update in z's
            grad, d = self._d_and_grad(z.to(self.compute_dtype))
            grad, d = grad.to(z.dtype), d.to(z.dtype)
        drift = SCALES[self.f](d).unsqueeze(1) * grad
        if self.prior:
            drift = drift - z
        return z + eta * drift + torch.sqrt(2.0 * eta * gamma) * noise


class TracedStep(nn.Module):
    """The step traced to ATen (gradient included): what the dynamo exporter sees. The weights
    are inputs of the trace (torch.func.functional_call) and buffers of this module, so they
    become initializers of the ONNX graph. Eager calls run the autograd reference (DGflowStep),
    so export_graph's parity check compares onnxruntime with torch autograd, not with the trace."""

    def __init__(self, step: DGflowStep, example: list[torch.Tensor]) -> None:
        super().__init__()
        self.step = step.eval()
        state = {**dict(step.named_parameters()), **dict(step.named_buffers())}
        self.keys = list(state)
        for i, k in enumerate(self.keys):
            self.register_buffer(f"w{i}", state[k].detach().clone(), persistent=False)

        def fn(state: dict[str, torch.Tensor], z, noise, eta, gamma) -> torch.Tensor:
            return torch.func.functional_call(self.step, state, (z, noise, eta, gamma))

        with torch.enable_grad():
            self.gm = make_fx(fn, decomposition_table=_decompositions(), tracing_mode="symbolic")(
                state, *example
            )

    def forward(self, z: torch.Tensor, noise: torch.Tensor, eta: torch.Tensor, gamma: torch.Tensor):
        if torch.compiler.is_exporting():
            state = {k: getattr(self, f"w{i}") for i, k in enumerate(self.keys)}
            return self.gm(state, z, noise, eta, gamma)
        return self.step(z, noise, eta, gamma)


def step_inputs(d: int) -> Callable[[int, torch.Generator], list[torch.Tensor]]:
    """Random test inputs: z, noise ~ N(0, I) and the authors' eta, gamma scaled up 3x so the
    gradient term is not lost in the tolerance."""

    def make(n: int, gen: torch.Generator) -> list[torch.Tensor]:
        z, noise = torch.randn(n, d, generator=gen), torch.randn(n, d, generator=gen)
        return [z, noise, torch.tensor(0.3), torch.tensor(0.03)]

    return make


def refine_spec(d: int, path: str = "refine/model.onnx") -> GraphSpec:
    return GraphSpec(
        path,
        [("z", ["batch", d]), ("noise", ["batch", d]), ("eta", []), ("gamma", [])],
        [("z_next", ["batch", d])],
        make=step_inputs(d),
        kinks=True,  # z_next holds the gradient of D(G(z)) through G's and D's (leaky) ReLUs
    )


def build_step(
    generator: nn.Module, critic: nn.Module, corrector: nn.Module | None = None, f: str = "kl", prior=False
) -> DGflowStep:
    """Eval-mode copies of the frozen modules, wrapped as one step."""
    g = copy.deepcopy(generator).eval()
    c = Critic(copy.deepcopy(critic).eval(), None if corrector is None else copy.deepcopy(corrector).eval())
    return DGflowStep(g, c, f, prior).eval()


def step_graphs(component: str, settings: Callable[[dict[str, Any]], tuple[str, bool]], ratio_only: bool):
    """The DERIVED builder of one step graph, `component`/model.onnx: (f, prior) = settings(meta);
    with `ratio_only`, only for runs whose critic (+ corrector) estimates log p_data/p_G."""

    def build(modules: dict[str, nn.Module], meta: dict[str, Any]) -> list[Graph]:
        g, c = modules.get("generator"), modules.get("critic")
        if g is None or c is None:
            return []
        provenance = {"train": meta.get("train", {}), "components": meta.get("components", {})}
        if ratio_only and density_ratio_problem(provenance, set(modules)) is not None:
            return []
        f, prior = settings(meta)
        step = build_step(g, c, modules.get("corrector"), f=f, prior=prior)
        spec = refine_spec(g.config.latent_dim, f"{component}/model.onnx")
        traced = TracedStep(step, spec.make_inputs(8, torch.Generator().manual_seed(0)))
        return [Graph(component, spec, traced)]

    return build


def dgflow_settings(meta: dict[str, Any]) -> tuple[str, bool]:
    opts = {**METHOD_DEFAULTS["dgflow"], **meta.get("sampling_defaults", {}).get("dgflow", {})}
    return opts["f"], bool(opts.get("prior", False))


# refine/model.onnx for runs with a generator and a critic (+ corrector): DGflow's step
refine_graphs = DERIVED.register("refine")(step_graphs("refine", dgflow_settings, ratio_only=False))
# ddls/model.onnx: DDLS (Che et al. 2020) z - (eps/2) grad(||z||^2/2 - d(G(z))) + sqrt(eps) xi is this
# step with the prior term, f = KL (s = 1), eta = eps/2 and gamma = 1; only for ratio critics
ddls_graphs = DERIVED.register("ddls")(step_graphs("ddls", lambda meta: ("kl", True), ratio_only=True))
