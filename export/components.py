"""The exporters of single components: generator, critic, corrector, classifier, weight network."""

from __future__ import annotations

import torch

from ganflow.export.graph import EXPORTERS, Graph, GraphSpec


@EXPORTERS.register("generator")
def generator_graphs(module: torch.nn.Module) -> list[Graph]:
    d, shape = module.config.latent_dim, list(module.config.data_shape)
    spec = GraphSpec("generator/model.onnx", [("z", ["batch", d])], [("x", ["batch", *shape])])
    return [Graph("generator", spec, module)]


def logit_graphs(component: str):
    """x [N, *shape] -> logit [N, 1] as `component`/model.onnx: the critic, and the density-ratio
    corrector C of a corrector run (the sampler adds them: d = D + C, sampler/ratio.py)."""

    def graphs(module: torch.nn.Module) -> list[Graph]:
        shape = list(module.config.data_shape)
        spec = GraphSpec(f"{component}/model.onnx", [("x", ["batch", *shape])], [("logit", ["batch", 1])])
        return [Graph(component, spec, module)]

    return graphs


critic_graphs = EXPORTERS.register("critic")(logit_graphs("critic"))
corrector_graphs = EXPORTERS.register("corrector")(logit_graphs("corrector"))


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
