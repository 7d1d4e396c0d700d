"""Export parity for every registered generator and critic, and the checks that guard it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from ganflow.export import onnx_export
from ganflow.export.graph import EXPORTERS
from ganflow.export.onnx_export import IR_VERSION, OPSET, ExportError, check_parity, export_onnx
from ganflow.models import CRITICS, GENERATORS, build_component

IMAGE = [1, 28, 28]


def _shape(arch: str) -> list[int]:
    return IMAGE if arch == "dcgan" else [2]


def _cases():
    for arch, cls in GENERATORS.items():
        example = getattr(cls, "example_config", None)  # e.g. invertible: latent_dim = prod(shape)
        cfg = example() if example else {"arch": arch, "latent_dim": 8, "data_shape": _shape(arch)}
        yield "generator", cfg
    for arch in CRITICS.names():
        for sn in (False, True):
            yield "critic", {"arch": arch, "data_shape": _shape(arch), "spectral_norm": sn}


@pytest.mark.parametrize("component,cfg", list(_cases()), ids=lambda v: str(v))
def test_export_parity(tmp_path, component, cfg):
    torch.manual_seed(0)
    module = build_component(component, cfg)
    if component == "generator":  # non-trivial BatchNorm running statistics
        module.train()(torch.randn(32, cfg["latent_dim"]) * 2 + 0.5)
    module.eval()
    (graph,) = EXPORTERS.get(component)(module)
    spec = graph.spec
    path = tmp_path / spec.path
    names = [n for n, _ in spec.inputs]
    model = export_onnx(
        module,
        spec.make_inputs(8, torch.Generator().manual_seed(0)),
        names,
        [n for n, _ in spec.outputs],
        path,
    )
    assert model.ir_version <= IR_VERSION
    assert any(o.domain in ("", "ai.onnx") and o.version == OPSET for o in model.opset_import)
    loaded = onnx.load(str(path))
    dim0 = loaded.graph.input[0].type.tensor_type.shape.dim[0]
    assert dim0.dim_param and not dim0.dim_value  # symbolic batch axis
    worst = check_parity(module, path, spec.make_inputs, names)
    assert worst < 1e-4


def test_parity_catches_a_wrong_graph(tmp_path):
    torch.manual_seed(0)
    module = build_component("critic", {"arch": "mlp", "data_shape": [2]})
    spec = EXPORTERS.get("critic")(module)[0].spec
    path = tmp_path / "critic.onnx"
    export_onnx(module, spec.make_inputs(8, torch.Generator()), ["x"], ["logit"], path)
    with torch.no_grad():
        module.net[-1].bias += 1e-2  # the torch module no longer matches the graph
    with pytest.raises(ExportError, match="differs from torch"):
        check_parity(module, path, spec.make_inputs, ["x"])


def test_export_refuses_non_finite_weights(tiny_run, tmp_path):
    """A checkpoint holding NaN (a run that diverged) is refused in one line naming the component,
    before any graph is built; nothing is written at --out."""
    import shutil

    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from ganflow.export import export_bundle
    from ganflow.sampler.errors import InputError

    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    weights = load_file(run / "model.safetensors")
    key = next(k for k in weights if k.startswith("critic.") and k.endswith("weight"))
    weights[key][0] = float("nan")
    with safe_open(str(run / "model.safetensors"), framework="pt") as f:
        metadata = f.metadata()
    save_file(weights, run / "model.safetensors", metadata=metadata)
    with pytest.raises(InputError, match=r"the critic's weights hold NaN or inf .* training diverged"):
        export_bundle(run, tmp_path / "bundle", log=lambda *a: None)
    assert not (tmp_path / "bundle").exists() and [p.name for p in tmp_path.iterdir()] == ["run"]


@pytest.mark.parametrize(
    "off,by,kinks,ok",
    [
        ([], 0.0, False, True),
        ([56], 2.4e-4, False, False),  # the width-64 DCGAN's DGflow step: one example took another slope
        ([56], 2.4e-4, True, True),
        ([3, 20], 2.4e-4, True, True),  # ceil(64 / 32) = 2 examples may
        ([3, 20, 40], 2.4e-4, True, False),  # a wrong graph is off on many examples
        ([56], 0.1, True, False),  # and no example by more than KINK_ATOL
        ([56], float("nan"), True, False),
    ],
)
def test_kink_tolerance_of_gradient_graphs(off, by, kinks, ok):
    from ganflow.export.onnx_export import _within

    ref = np.random.default_rng(0).standard_normal((64, 16)).astype(np.float32)
    diff = np.full_like(ref, 1e-7)
    diff[off] = by
    assert _within(diff, ref, 64, kinks) is ok


def test_step_graphs_declare_kinks():
    from ganflow.export.refine import refine_spec

    assert (
        refine_spec(4).kinks
        and not EXPORTERS.get("critic")(build_component("critic", {"arch": "mlp", "data_shape": [2]}))[
            0
        ].spec.kinks
    )


class _Linear(torch.nn.Module):
    """y = x W, the graph that gets exported."""

    def __init__(self, scale: float = 1.0):
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(16, 16, generator=torch.Generator().manual_seed(3)) * scale)

    def forward(self, x):
        return x @ self.w


class _IllConditioned(_Linear):
    """The same map, but torch's float32 output carries an extra error of `noise` per element (as a
    badly conditioned network's does: the hybrid Flow-GAN's fp32 is 2.2e-5 from fp64); float64 is
    exact."""

    def __init__(self, noise: float, scale: float = 1.0):
        super().__init__(scale)
        self.noise = noise

    def forward(self, x):
        y = super().forward(x)
        return y + self.noise if y.dtype == torch.float32 else y


def _inputs(n, gen):
    return [torch.randn(n, 16, generator=gen)]


@pytest.mark.parametrize(
    "noise,scale,ok",
    [
        (0.0, 1.0, True),
        (3e-5, 1.0, True),  # past the fp32 tolerance, but onnxruntime is at fp64: accepted
        (3e-5, 1.01, False),  # a wrong graph is off from the float64 reference too
        (1e-3, 1.01, False),  # and torch's own error does not hide a larger one
    ],
)
def test_parity_falls_back_to_a_float64_reference(tmp_path, noise, scale, ok):
    path = tmp_path / "linear.onnx"
    export_onnx(_Linear(), _inputs(8, torch.Generator()), ["x"], ["y"], path)
    module = _IllConditioned(noise, scale)
    if ok:
        assert check_parity(module, path, _inputs, ["x"]) >= noise * 0.99
    else:
        with pytest.raises(ExportError, match="and from float64 by more than float32 rounding explains"):
            check_parity(module, path, _inputs, ["x"])


def test_parity_without_a_float64_reference_is_strict(tmp_path):
    """A module that cannot run in float64 gets the plain float32 check."""

    class Fp32Only(_IllConditioned):
        def double(self):
            raise RuntimeError("float32 only")

    path = tmp_path / "linear.onnx"
    export_onnx(_Linear(), _inputs(8, torch.Generator()), ["x"], ["y"], path)
    with pytest.raises(ExportError, match=r"differs from torch by 3.*e-05 at batch 1; the export is wrong"):
        check_parity(Fp32Only(3e-5), path, _inputs, ["x"])


class _Cancel(torch.nn.Module):
    """y = (k x + c) - c: exact in float64, but float32 loses x's low bits to c's magnitude (about
    half an ulp of c), the way a badly conditioned network amplifies rounding. With `conv`, a 1x1
    convolution comes first: onnxruntime has no float64 Conv kernel, so onnx's reference evaluator
    runs the float64 file."""

    def __init__(self, c: float, k: float = 1.0, conv: bool = False):
        super().__init__()
        self.c, self.k = c, k
        self.conv = torch.nn.Conv2d(1, 1, 1, bias=False) if conv else None
        if conv:
            torch.nn.init.ones_(self.conv.weight)

    def forward(self, x):
        x = x if self.conv is None else self.conv(x)
        return (x * self.k + self.c) - self.c


class _Reference(_Cancel):
    """The module the graph claims to be: the same function, but torch's float32 output is exact,
    so only the graph's float32 carries the cancellation error (torch's own check cannot excuse it)."""

    def forward(self, x):
        if x.dtype == torch.float64:
            return super().forward(x)
        return x if self.conv is None else self.conv(x)


@pytest.mark.parametrize(
    "graph,match",
    [
        (_Cancel(1e4), None),  # off by 4.9e-4 in float32, exact in float64: the graph is right
        (_Cancel(1e4, k=1.01), "run in float64 the file differs from torch float64 by 0.0"),  # wrong
        (_Cancel(1e6), "the graph is right in float64 but float32 moves the output by 0.03"),  # past FP32_CAP
        (_Cancel(1e4, conv=True), None),
        (_Cancel(1e4, k=1.01, conv=True), "run in float64 the file differs from torch float64 by 0.0"),
    ],
    ids=["ill-conditioned", "wrong", "too-ill", "conv-ill-conditioned", "conv-wrong"],
)
def test_parity_decides_by_the_file_in_float64(tmp_path, monkeypatch, graph, match):
    conv = graph.conv is not None
    shape = (1, 4, 4) if conv else (16,)

    def inputs(n, gen):
        return [torch.randn(n, *shape, generator=gen)]

    path = tmp_path / "cancel.onnx"
    export_onnx(graph, inputs(8, torch.Generator()), ["x"], ["y"], path)
    module = _Reference(1e6 if graph.c == 1e6 else 1e4, conv=conv)
    if match is None:
        assert check_parity(module, path, inputs, ["x"]) > 1e-4  # past the tolerance, yet accepted
        monkeypatch.setattr(onnx_export, "float64_session", lambda path: "none")
        with pytest.raises(ExportError, match=r"more than float32 rounding explains \(none\)"):
            check_parity(module, path, inputs, ["x"])  # it was the float64 file that decided
    else:
        with pytest.raises(ExportError, match=match):
            check_parity(module, path, inputs, ["x"])


def test_adversarial_flow_gan_exports(tmp_path):
    """zoo/flowgan-adv-s2's generator: onnxruntime is 5.5e-4 from torch at batch 64, past both the
    tolerance and twice torch's own float32 error; run in float64 the file agrees, so it exports."""
    from ganflow.export.graph import export_graph
    from ganflow.models.checkpoint import load_modules

    run = Path(__file__).parents[2] / "benchmarks/zoo/checkpoints/flowgan-adv-s2-final"
    G = load_modules(run)[1]["generator"].eval()
    (graph,) = EXPORTERS.get("generator")(G)
    assert export_graph(graph, tmp_path / graph.spec.path) > 1e-4
