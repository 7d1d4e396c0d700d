"""Export parity for every registered generator and critic, and the checks that guard it."""

from __future__ import annotations

import onnx
import pytest
import torch

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
