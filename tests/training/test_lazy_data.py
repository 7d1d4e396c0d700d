"""Training on data read lazily (a LazyArray: large arrays, image folders) gives the same run as on
the same data held in memory: the same batches, the same weights."""

from __future__ import annotations

import torch

from ganflow.models import load_checkpoint
from ganflow.training import TrainConfig, default_components, train_gan
from ganflow.training.batches import real_examples
from tests.sampler.test_own_data import eager_and_lazy


def test_lazy_and_in_memory_data_train_alike(tmp_path, monkeypatch):
    eager, lazy = eager_and_lazy(tmp_path, monkeypatch, 200)
    idx = torch.tensor([3, 0, 3, 179])
    examples = real_examples(lazy.x, torch.device("cpu"))
    assert len(examples) == 180 and torch.equal(
        examples[idx], real_examples(eager.x, torch.device("cpu"))[idx]
    )
    cfg = TrainConfig(steps=6, batch_size=16, eval_every=6, sample_every=6, ckpt_every=6, eval_samples=64)
    for name, ds in (("eager", eager), ("lazy", lazy)):
        train_gan(
            tmp_path / name, ds, default_components(ds.spec, width=8), cfg, progress=False, device="cpu"
        )
    (m1, w1), (m2, w2) = load_checkpoint(tmp_path / "eager"), load_checkpoint(tmp_path / "lazy")
    assert m1["data"] == m2["data"]
    for comp in w1:
        for k in w1[comp]:
            assert torch.equal(w1[comp][k], w2[comp][k]), (comp, k)
