"""DGflow step export: onnxruntime vs torch autograd for every generator/critic pair, one and K steps."""

from __future__ import annotations

import math

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F

from ganflow.export.graph import DERIVED, Graph, export_graph
from ganflow.export.onnx_export import ATOL, RTOL
from ganflow.export.refine import SCALES, TracedStep, _conv_input_grad, build_step, refine_spec
from ganflow.models import build_component
from ganflow.models.registry import CRITICS, GENERATORS

TINY = {  # tiny configs per architecture: the export is exercised, not the model's quality
    "mlp": ({"hidden": 16, "depth": 2}, [2], 3),
    "dcgan": ({"channels": 4}, [1, 8, 8], 5),
}
# (generator, critic, spectral norm, f, prior): every registered critic, SN on/off, each f once
CASES = [
    ("mlp", "mlp", False, "kl", False),
    ("mlp", "mlp", True, "js", False),
    ("dcgan", "dcgan", False, "logd", False),
    ("dcgan", "dcgan", True, "kl", True),
]
# ops the step may contain: all in onnxruntime's CPU execution provider (default domain)
ALLOWED_OPS = {
    "Add", "BatchNormalization", "Conv", "ConvTranspose", "Expand", "Gemm", "Greater", "LeakyRelu",
    "LessOrEqual", "MatMul", "Mul", "Neg", "Relu", "Reshape", "Shape", "Sigmoid", "Sqrt", "Sub",
    "Tanh", "Transpose", "Unsqueeze", "Where", "Constant", "Div", "Cast", "Concat", "Gather",
}  # fmt: skip


def _pair(g_arch: str, c_arch: str, sn: bool, seed: int = 0):
    torch.manual_seed(seed)
    g_cfg, shape, d = TINY[g_arch]
    c_cfg = TINY[c_arch][0]
    g = build_component("generator", {"arch": g_arch, "latent_dim": d, "data_shape": shape, **g_cfg})
    c = build_component("critic", {"arch": c_arch, "data_shape": shape, "spectral_norm": sn, **c_cfg})
    for m in g.modules():  # non-trivial BatchNorm statistics, used in eval mode
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.running_mean.normal_(0, 0.3)
            m.running_var.uniform_(0.5, 2.0)
    if sn:  # a few power iterations so u, v are not at their initial values
        c.train()
        with torch.no_grad():
            for _ in range(3):
                c(torch.randn(4, *shape))
    return g.eval(), c.eval(), d


def _reference(g, c, z, noise, eta, gamma, f, prior) -> torch.Tensor:
    """The step with plain torch.autograd.grad (independent of the exported torch.func code)."""
    z = z.clone().requires_grad_(True)
    d = c(g(z)).reshape(-1)
    (grad,) = torch.autograd.grad(d.sum(), z)
    drift = SCALES[f](d.detach()).unsqueeze(1) * grad - (z.detach() if prior else 0.0)
    return z.detach() + eta * drift + math.sqrt(2 * eta * gamma) * noise


@pytest.fixture(scope="module", params=CASES, ids=lambda c: "-".join(map(str, c)))
def exported(request, tmp_path_factory):
    g_arch, c_arch, sn, f, prior = request.param
    g, c, d = _pair(g_arch, c_arch, sn)
    step = build_step(g, c, f=f, prior=prior)
    spec = refine_spec(d)
    path = tmp_path_factory.mktemp("refine") / "model.onnx"
    traced = TracedStep(step, spec.make_inputs(8, torch.Generator()))
    worst = export_graph(Graph("refine", spec, traced), path)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return request.param, g, c, d, path, sess, worst


def _run(sess, z, noise, eta, gamma) -> np.ndarray:
    scalars = {"eta": np.array(eta, np.float32), "gamma": np.array(gamma, np.float32)}
    feeds = {"z": z.numpy(), "noise": noise.numpy(), **scalars}
    return sess.run(None, feeds)[0]


def _close(out: np.ndarray, ref: torch.Tensor) -> None:
    ref = ref.numpy()
    assert out.shape == ref.shape
    diff = np.abs(out - ref)
    assert np.all(diff <= ATOL + RTOL * np.abs(ref)), f"max |diff| {diff.max():.3g}"


def test_cases_cover_the_registries():
    """A newly registered critic or (non-invertible) generator must get a parity case here."""
    assert {c for _, c, *_ in CASES} == set(CRITICS.names())
    feedforward = {n for n in GENERATORS.names() if not hasattr(GENERATORS.get(n), "log_prob")}
    assert {g for g, *_ in CASES} == feedforward
    assert {sn for *_, sn, _, _ in CASES} == {False, True} and {f for *_, f, _ in CASES} == set(SCALES)


@pytest.mark.parametrize("batch", [1, 7, 64])
def test_step_matches_autograd(exported, batch):
    (_, _, _, f, prior), g, c, d, _, sess, worst = exported
    assert worst <= 1e-4  # export_graph's own check (vs the torch.func step) passed
    gen = torch.Generator().manual_seed(batch)
    z, noise = torch.randn(batch, d, generator=gen), torch.randn(batch, d, generator=gen)
    for eta, gamma in [(0.1, 0.01), (0.5, 0.0)]:
        ref = _reference(g, c, z, noise, eta, gamma, f, prior)
        _close(_run(sess, z, noise, eta, gamma), ref)
    # the gradient term is really there: with gamma = 0 the step moves z by eta * s * grad (!= 0)
    moved = _run(sess, z, noise, 0.5, 0.0) - z.numpy()
    assert np.abs(moved).max() > 1e-4


def test_k_steps_match_torch(exported):
    (_, _, _, f, prior), g, c, d, _, sess, _ = exported
    gen = torch.Generator().manual_seed(5)
    z = torch.randn(16, d, generator=gen)
    zt, zo = z.clone(), z.numpy()
    for _ in range(5):
        noise = torch.randn(16, d, generator=gen)
        zt = _reference(g, c, zt, noise, 0.1, 0.01, f, prior)
        zo = _run(sess, torch.from_numpy(zo), noise, 0.1, 0.01)
    diff = np.abs(zo - zt.numpy())
    assert np.all(diff <= 5 * (ATOL + RTOL * np.abs(zt.numpy()))), diff.max()


def test_ops_run_on_cpu_provider(exported):
    *_, path, sess, _ = exported
    model = onnx.load(str(path))
    ops = {(n.domain or "", n.op_type) for n in model.graph.node}
    assert {op for dom, op in ops if dom == ""} <= ALLOWED_OPS, ops
    assert all(dom in ("", "ai.onnx") for dom, _ in ops), ops
    assert sess.get_providers() == ["CPUExecutionProvider"]
    names = [(i.name, i.shape) for i in sess.get_inputs()]
    assert [n for n, _ in names] == ["z", "noise", "eta", "gamma"] and names[2][1] == []
    assert isinstance(sess.get_inputs()[0].shape[0], str)  # dynamic batch


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("size,stride,padding", [(7, 2, 1), (8, 2, 1), (9, 3, 0), (6, 1, 2)])
def test_conv_backward_decomposition(transposed, size, stride, padding):
    """The adjoint convolution equals autograd's input gradient, odd sizes included."""
    torch.manual_seed(0)
    x = torch.randn(2, 3, size, size, requires_grad=True)
    w = torch.randn(3, 4, 3, 3) if transposed else torch.randn(4, 3, 3, 3)
    conv = F.conv_transpose2d if transposed else F.conv2d
    y = conv(x, w, stride=stride, padding=padding)
    go = torch.randn_like(y)
    (ref,) = torch.autograd.grad(y, x, go)
    geometry = ([stride] * 2, [padding] * 2, [1, 1], transposed, [0, 0], 1)
    got, gw, gb = _conv_input_grad(go, x.detach(), w, None, *geometry, [True, False, False])
    assert gw is None and gb is None
    torch.testing.assert_close(got, ref, atol=1e-5, rtol=1e-4)
    with pytest.raises(NotImplementedError):
        _conv_input_grad(go, x, w, None, *geometry, [True, True, False])


def test_scales_are_the_papers():
    """s(d) for KL, JS, logD (DGflow, authors' code): 1, sigmoid(d), sigmoid(-d)."""
    d = torch.tensor([-2.0, 0.0, 3.0])
    assert set(SCALES) == {"kl", "js", "logd"}
    torch.testing.assert_close(SCALES["kl"](d), torch.ones(3))
    torch.testing.assert_close(SCALES["js"](d), torch.sigmoid(d))
    torch.testing.assert_close(SCALES["logd"](d), 1 - torch.sigmoid(d))
    with pytest.raises(ValueError, match="unknown DGflow f"):
        build_step(*_pair("mlp", "mlp", False)[:2], f="rkl")


@pytest.mark.parametrize("critic", CRITICS.names())
def test_registered_only_with_a_critic(critic):
    g, c, _ = _pair("mlp", "mlp", False) if critic == "mlp" else _pair("dcgan", "dcgan", False)
    build = DERIVED.get("refine")
    assert build({"generator": g}, {}) == []
    (graph,) = build({"generator": g, "critic": c}, {})
    assert graph.spec.path == "refine/model.onnx" and graph.spec.dynamic_batch == [True, True, False, False]
    z = torch.randn(3, g.config.latent_dim)
    out = graph.module(z, torch.zeros_like(z), torch.tensor(0.1), torch.tensor(0.0))
    torch.testing.assert_close(out, _reference(g, c, z, torch.zeros_like(z), 0.1, 0.0, "kl", False))
