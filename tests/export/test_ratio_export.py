"""Export follows the density-ratio rule: ddls/model.onnx only for ratio critics, the corrector exported."""

from __future__ import annotations

from ganflow.export.graph import EXPORTERS
from ganflow.export.refine import ddls_graphs
from ganflow.models import load_modules


def test_ddls_graph_only_for_a_ratio_critic(tiny_run):
    meta, mods = load_modules(tiny_run)  # a BCE GAN
    (graph,) = ddls_graphs(mods, meta)
    step = graph.module.step
    assert (
        graph.spec.path == "ddls/model.onnx"
        and step.prior
        and step.f == "kl"
        and step.critic.corrector is None
    )
    wgan = {**meta, "train": {**meta["train"], "loss": "wgan-gp"}}
    assert ddls_graphs(mods, wgan) == []  # a WGAN-GP critic alone is not log p_data/p_G
    corrected = {**wgan, "components": {**meta["components"], "corrector": meta["components"]["critic"]}}
    (graph,) = ddls_graphs({**mods, "corrector": mods["critic"]}, corrected)
    assert graph.module.step.critic.corrector is not None  # d = D + C
    (corrector,) = EXPORTERS.get("corrector")(mods["critic"])
    assert corrector.component == "corrector" and corrector.spec.path == "corrector/model.onnx"
