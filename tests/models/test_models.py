"""Invariants over every registered generator and critic: shapes, configs, checkpoints."""

from __future__ import annotations

import pytest
import torch

from ganflow.models import CRITICS, GENERATORS, build_component, config_to_dict, load_modules, save_checkpoint

IMAGE = [1, 28, 28]


def gen_cfg(arch: str) -> dict:
    cls = GENERATORS.get(arch)
    if hasattr(cls, "example_config"):  # e.g. invertible generators: latent_dim = prod(data_shape)
        return cls.example_config()
    shape = IMAGE if arch == "dcgan" else [2]
    return {"arch": arch, "latent_dim": 8, "data_shape": shape}


def critic_cfg(arch: str, sn: bool = False) -> dict:
    arch = arch if arch in CRITICS else "mlp"  # generators without a critic of their own
    shape = IMAGE if arch == "dcgan" else [2]
    return {"arch": arch, "data_shape": shape, "spectral_norm": sn}


@pytest.mark.parametrize("arch", GENERATORS.names())
def test_generator_shapes(arch):
    g = build_component("generator", gen_cfg(arch)).eval()
    x = g(torch.randn(5, g.config.latent_dim))
    assert x.shape == (5, *g.config.data_shape)


@pytest.mark.parametrize("sn", [False, True])
@pytest.mark.parametrize("arch", CRITICS.names())
def test_critic_shapes(arch, sn):
    d = build_component("critic", critic_cfg(arch, sn))
    x = torch.randn(5, *d.config.data_shape)
    assert d(x).shape == (5, 1)


def test_mlp_generator_on_images():
    g = build_component(
        "generator", {"arch": "mlp", "latent_dim": 4, "data_shape": IMAGE, "tanh_output": True}
    )
    x = g(torch.randn(3, 4))
    assert x.shape == (3, 1, 28, 28) and x.abs().max() <= 1


@pytest.mark.parametrize(
    "bad",
    [
        ("generator", {"arch": "dcgan", "latent_dim": 8, "data_shape": [2]}),
        ("generator", {"arch": "mlp", "latent_dim": 0, "data_shape": [2]}),
        ("generator", {"arch": "nope", "latent_dim": 8, "data_shape": [2]}),
        ("critic", {"arch": "mlp", "data_shape": [2], "colour": 1}),
        ("critic", {"arch": "dcgan", "data_shape": [1, 30, 30]}),
    ],
)
def test_invalid_configs_raise(bad):
    with pytest.raises(ValueError):
        build_component(*bad)


def test_spectral_norm_bounds_the_weight():
    d = build_component("critic", critic_cfg("mlp", True)).train()
    for _ in range(30):  # power iterations run in training mode
        d(torch.randn(16, 2))
    w = d.net[0].weight
    assert torch.linalg.matrix_norm(w.detach(), ord=2).item() == pytest.approx(1.0, rel=0.05)


@pytest.mark.parametrize("arch", GENERATORS.names())
def test_checkpoint_round_trip(tmp_path, arch):
    torch.manual_seed(0)
    g = build_component("generator", gen_cfg(arch))
    d = build_component("critic", critic_cfg(arch, sn=True))
    g.train()(torch.randn(4, g.config.latent_dim))  # move BatchNorm running stats away from their init
    meta = {
        "components": {"generator": config_to_dict(g), "critic": config_to_dict(d)},
        "data": {"dataset": "x"},
    }
    save_checkpoint(tmp_path, {"generator": g, "critic": d}, meta)
    meta2, mods = load_modules(tmp_path)
    assert meta2 == meta
    z = torch.randn(6, g.config.latent_dim)
    g.eval()
    assert torch.equal(mods["generator"](z), g(z))
    x = torch.randn(6, *d.config.data_shape)
    d.eval()
    assert torch.equal(mods["critic"](x), d(x))
    assert not list(tmp_path.glob("*.tmp"))  # atomic writes leave no temporary files
