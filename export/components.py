"""The exporters of single components: generator, critic, classifier, weight network."""

from __future__ import annotations

import torch

from ganflow.export.graph import EXPORTERS, Graph, GraphSpec


@EXPORTERS.register("generator")
def generator_graphs(module: torch.nn.Module) -> list[Graph]:
    d, shape = module.config.latent_dim, list(module.config.data_shape)
    spec = GraphSpec("generator/model.onnx", [("z", ["batch", d])], [("x", ["batch", *shape])])
    return [Graph("generator", spec, module)]


@EXPORTERS.register("critic")
def critic_graphs(module: torch.nn.Module) -> list[Graph]:
    shape = list(module.config.data_shape)
    spec = GraphSpec("critic/model.onnx", [("x", ["batch", *shape])], [("logit", ["batch", 1])])
    return [Graph("critic", spec, module)]


@EXPORTERS.register("classifier")
def classifier_graphs(module: torch.nn.Module) -> list[Graph]:
    cfg = module.config
    spec = GraphSpec(
        "classifier/model.onnx",
        [("x", ["batch", *cfg.data_shape])],
        [("logits", ["batch", cfg.n_classes]), ("features", ["batch", cfg.hidden])],
    )
    return [Graph("classifier", spec, module)]


@EXPORTERS.register("weight")
def weight_graphs(module: torch.nn.Module) -> list[Graph]:
    d = module.config.latent_dim
    return [
        Graph("weight", GraphSpec("weight/model.onnx", [("z", ["batch", d])], [("w", ["batch"])]), module)
    ]
