"""The likelihood graph of invertible generators: present exactly when log_prob is, exact, parity."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch

from ganflow.export import export_bundle
from ganflow.export.graph import export_graph, graphs_of
from ganflow.export.onnx_export import PARITY_BATCHES
from ganflow.models import GENERATORS, build_component, config_to_dict, save_checkpoint
from ganflow.sampler.bundle import load_bundle

FLOWS = [name for name, cls in GENERATORS.items() if getattr(cls, "invertible", False)]


def _flow(arch: str, **over) -> torch.nn.Module:
    torch.manual_seed(0)
    g = build_component("generator", {**GENERATORS.get(arch).example_config(), **over})
    with torch.no_grad():
        for p in g.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return g.eval()


@pytest.mark.parametrize("arch", FLOWS)
def test_likelihood_graph_matches_log_prob(tmp_path, arch):
    g = _flow(arch, prior="logistic")
    graphs = {gr.component: gr for gr in graphs_of({"generator": g}, {})}
    assert set(graphs) == {"generator", "likelihood"}
    spec = graphs["likelihood"].spec
    assert spec.inputs == [("x", ["batch", *g.config.data_shape])] and spec.outputs == [("log_px", ["batch"])]
    # checker + parity at batch 1, 7, 64 (ExportError past the tolerance); the generator graph's
    # parity is tests/export/test_onnx_export.py's
    assert export_graph(graphs["likelihood"], tmp_path / spec.path) < 1e-2
    assert PARITY_BATCHES == (1, 7, 64)
    # generator samples, scored by the exported likelihood graph
    lik = ort.InferenceSession(str(tmp_path / spec.path), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        x = g(torch.randn(5, g.config.latent_dim))
        ref = g.log_prob(x).numpy()
    (log_px,) = lik.run(None, {"x": x.numpy()})
    assert log_px.shape == (5,) and np.allclose(log_px, ref, rtol=1e-4, atol=1e-3)


def test_generators_without_log_prob_get_no_likelihood_graph():
    g = build_component("generator", {"arch": "mlp", "latent_dim": 2, "data_shape": [2]})
    assert [gr.component for gr in graphs_of({"generator": g}, {})] == ["generator"]


def test_bundle_manifest_lists_the_likelihood_graph(tmp_path):
    g = _flow("realnvp-conv")
    meta = {
        "components": {"generator": config_to_dict(g)},
        "data": {"dataset": "tiny", "shape": [1, 4, 4], "range": [-1.0, 1.0]},
        "summary": {"step": 0, "metrics": {}},
    }
    save_checkpoint(tmp_path / "run", {"generator": g}, meta)
    manifest = export_bundle(tmp_path / "run", tmp_path / "bundle", log=lambda *a: None)
    lik = manifest["components"]["likelihood"]
    assert lik["inputs"][0]["shape"] == ["batch", 1, 4, 4] and lik["outputs"][0]["name"] == "log_px"
    assert "likelihood" in load_bundle(tmp_path / "bundle").components
