"""Every latent flow exports to flow/sample.onnx and flow/log_prob.onnx with onnxruntime parity."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from ganflow.export.cuda_check import cuda_problems
from ganflow.export.graph import EXPORTERS, export_graph
from ganflow.models import FLOWS, build_component


@pytest.mark.parametrize("arch", FLOWS.names())
def test_flow_graphs_export_with_parity(tmp_path, arch):
    torch.manual_seed(0)
    flow = build_component("flow", {"arch": arch, "latent_dim": 4, "layers": 2, "hidden": 16})
    with torch.no_grad():  # not the identity a new flow is
        for p in flow.parameters():
            p.normal_(0, 0.3)
    graphs = EXPORTERS.get("flow")(flow)
    assert [g.component for g in graphs] == ["flow", "flow_log_prob"]
    paths = {}
    for g in graphs:
        paths[g.component] = tmp_path / g.spec.path
        assert export_graph(g, paths[g.component]) < 1e-3  # parity at batch 1, 7, 64 inside
        assert cuda_problems(onnx.load(paths[g.component])) == []  # stays on the CUDA provider
    # the two graphs agree with each other: log_q of the sampled z is log_prob(z)
    h = np.random.default_rng(0).standard_normal((7, 4)).astype(np.float32)
    z, log_q = ort.InferenceSession(str(paths["flow"])).run(None, {"h": h})
    (log_q2,) = ort.InferenceSession(str(paths["flow_log_prob"])).run(None, {"z": z})
    assert z.shape == (7, 4) and log_q.shape == (7,)
    np.testing.assert_allclose(log_q, log_q2, rtol=1e-4, atol=1e-3)
    with torch.no_grad():
        ref, _ = flow.inverse(torch.from_numpy(h))
    np.testing.assert_allclose(z, ref.numpy(), rtol=1e-4, atol=1e-5)
