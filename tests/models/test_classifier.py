"""Invariants over every registered classifier: shapes, config validation, checkpoint round trip."""

from __future__ import annotations

import pytest
import torch

from ganflow.models import (
    CLASSIFIERS,
    COMPONENTS,
    build_component,
    config_to_dict,
    load_modules,
    save_checkpoint,
)
from ganflow.models.configs import MNISTCNNConfig


def cls_cfg(arch: str, **kw) -> dict:
    return {"arch": arch, "channels": 4, "hidden": 16, **kw}


def test_registered():
    assert COMPONENTS["classifier"] is CLASSIFIERS
    assert "mnist-cnn" in CLASSIFIERS


@pytest.mark.parametrize("arch", CLASSIFIERS.names())
def test_classifier_shapes(arch):
    m = build_component("classifier", cls_cfg(arch)).eval()
    logits, features = m(torch.rand(5, 1, 28, 28) * 2 - 1)
    assert logits.shape == (5, 10) and features.shape == (5, 16)
    assert logits.dtype == features.dtype == torch.float32
    assert (features >= 0).all()  # features come after a ReLU


def test_config_defaults_and_shape():
    cfg = MNISTCNNConfig(data_shape=[1, 28, 28])
    assert (cfg.channels, cfg.hidden, cfg.n_classes, cfg.data_shape) == (32, 128, 10, (1, 28, 28))
    m = build_component("classifier", cls_cfg("mnist-cnn", n_classes=3, data_shape=[3, 32, 32])).eval()
    logits, features = m(torch.randn(2, 3, 32, 32))
    assert logits.shape == (2, 3) and features.shape == (2, 16)


def test_dropout_only_in_training():
    torch.manual_seed(0)
    m = build_component("classifier", cls_cfg("mnist-cnn"))
    x = torch.randn(8, 1, 28, 28)
    m.eval()
    assert torch.equal(m(x)[0], m(x)[0])
    m.train()
    assert not torch.equal(m(x)[0], m(x)[0])


@pytest.mark.parametrize(
    "bad",
    [
        {"channels": 0},
        {"hidden": -1},
        {"n_classes": 1},
        {"data_shape": [1, 30, 30]},
        {"data_shape": [28, 28]},
        {"colour": 1},
    ],
)
def test_invalid_configs_raise(bad):
    with pytest.raises(ValueError):
        build_component("classifier", {"arch": "mnist-cnn", **bad})


def test_unknown_arch_lists_the_names():
    with pytest.raises(ValueError, match="mnist-cnn"):
        build_component("classifier", {"arch": "resnet"})


@pytest.mark.parametrize("arch", CLASSIFIERS.names())
def test_checkpoint_round_trip(tmp_path, arch):
    torch.manual_seed(0)
    m = build_component("classifier", cls_cfg(arch))
    m.train()(torch.randn(4, 1, 28, 28))  # move BatchNorm running stats away from their init
    meta = {"family": "classifier", "components": {"classifier": config_to_dict(m)}, "data": {"dataset": "x"}}
    save_checkpoint(tmp_path, {"classifier": m}, meta)
    meta2, mods = load_modules(tmp_path)
    assert meta2 == meta and set(mods) == {"classifier"}
    assert not mods["classifier"].training
    x = torch.randn(6, 1, 28, 28)
    m.eval()
    for a, b in zip(mods["classifier"](x), m(x), strict=True):
        assert torch.equal(a, b)
    assert not list(tmp_path.glob("*.tmp"))
