"""The methods compose: a FIS-GAN (flow prior), reweighted (weight network), exported with its
DGflow step, sampled with flow -> latent-rs -> dgflow -> decode, torch-free and reproducible."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from ganflow.export import export_bundle
from ganflow.models import load_checkpoint
from ganflow.sampler.bundle import load_bundle
from ganflow.sampler.data import load_dataset
from ganflow.sampler.pipeline import Pipeline, supported_methods
from ganflow.sampler.runtime import Runtime
from ganflow.sampler.stages import options_from_flat
from ganflow.training import TrainConfig, default_components
from ganflow.training.fisgan import FISConfig, flow_component, train_fisgan
from ganflow.training.reweight import ReweightConfig, train_reweight


@pytest.fixture(scope="module")
def full_bundle(tmp_path_factory):
    root = tmp_path_factory.mktemp("compose")
    ds = load_dataset("gaussians25")
    comps = default_components(ds.spec)
    comps["flow"] = flow_component("realnvp", 2, layers=2, hidden=16)
    cfg = TrainConfig(steps=20, batch_size=64, log_every=10, eval_every=20, sample_every=20, ckpt_every=20,
                      eval_samples=128, seed=2)  # fmt: skip
    fis = FISConfig(refit_every=5, refit_epochs=1, n_aug=128, flow_batch=64)
    train_fisgan(root / "fis", ds, comps, cfg, fis, progress=False)
    rw = ReweightConfig(steps=10, batch_size=32, n_critic=2, hidden=16, log_every=5, eval_every=10,
                        ckpt_every=10, eval_samples=128, seed=1)  # fmt: skip
    train_reweight(root / "rw", ds, root / "fis", rw, device="cpu")
    meta, states = load_checkpoint(root / "rw")
    assert {"generator", "critic", "flow", "weight"} <= set(states)  # the base's flow is kept
    # w(z) is trained on the latents the sampler proposes: the flow's, not N(0, I)
    assert meta["reweight"]["proposal"] == "auto" and meta["reweight_proposal"] == "flow"
    train_reweight(root / "rw-gauss", ds, root / "fis", replace(rw, proposal="gaussian"), device="cpu")
    gauss = load_checkpoint(root / "rw-gauss")[1]["weight"]
    assert any(not torch.equal(gauss[k], states["weight"][k]) for k in gauss)
    export_bundle(root / "rw", root / "bundle", log=lambda *a: None)
    return root / "bundle"


def test_bundle_keeps_every_component(full_bundle):
    b = load_bundle(full_bundle)
    assert {"generator", "critic", "flow", "flow_log_prob", "weight", "refine"} <= set(b.components)
    assert {"plain", "flow", "latent-rs", "dgflow"} <= set(supported_methods(b))
    assert b.manifest["family"] == "fisgan"


def _draw(bundle, batch: int, seed: int = 4) -> tuple[np.ndarray, str]:
    pipe = Pipeline(
        load_bundle(bundle),
        Runtime("cpu"),
        seed=seed,
        proposal="flow",
        select="latent-rs",
        refine="dgflow",
        options=options_from_flat({"dg_steps": 5}),
    )
    x = np.concatenate([x for _, _, x in pipe.generate(700, batch)])
    return x, pipe.describe()


def test_flow_latent_rs_dgflow_compose_and_reproduce(full_bundle):
    x1, desc = _draw(full_bundle, 256)
    assert desc == "flow -> latent-rs -> dgflow -> decode"
    x2, _ = _draw(full_bundle, 100)  # sample i does not depend on the batch size
    np.testing.assert_array_equal(x1, x2)
    assert np.isfinite(x1).all() and x1.shape == (700, 2)
    x3, _ = _draw(full_bundle, 256, seed=5)
    assert not np.array_equal(x1, x3)


def test_composition_from_the_cli_without_torch(full_bundle, tmp_path):
    import subprocess
    import sys

    from tests.conftest import BLOCK_TORCH

    code = BLOCK_TORCH + (
        "import sys; from ganflow.sampler.cli import main; sys.argv = ['ganflow', *sys.argv[1:]]; main()"
    )
    args = ["sample", str(full_bundle), "-n", "300", "--out", str(tmp_path / "s.npz"), "--proposal", "flow",
            "--select", "latent-rs", "--refine", "dgflow", "--dg-steps", "3", "--device", "cpu"]  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "flow -> latent-rs -> dgflow -> decode" in proc.stdout
    assert np.load(tmp_path / "s.npz")["samples"].shape == (300, 2)


def test_flowgan_bundle_runs_dgflow_and_latent_rs(tmp_path):
    """A hybrid Flow-GAN has a critic: its bundle gets the DGflow step and a likelihood graph,
    and reweighting it gives LatentRS; every method samples finite, reproducible data."""
    from ganflow.training.flowgan import FlowGANTrainConfig, flowgan_components, train_flowgan

    ds = load_dataset("gaussians8")
    comps = flowgan_components(ds.spec, "realnvp-mlp", {"hidden": 16, "couplings": 2}, critic_width=16)
    small = dict(batch_size=32, n_critic=2, val_size=500, val_n=200, log_every=2, eval_every=3)
    small.update(sample_every=6, ckpt_every=3, eval_samples=200)
    cfg = FlowGANTrainConfig(objective="hybrid", steps=6, **small)
    train_flowgan(tmp_path / "fg", ds, comps, cfg, progress=False, device="cpu")
    rw = ReweightConfig(steps=4, batch_size=32, n_critic=1, hidden=16, log_every=2, eval_every=4,
                        ckpt_every=4, eval_samples=128, seed=1)  # fmt: skip
    train_reweight(tmp_path / "rw", ds, tmp_path / "fg", rw, device="cpu")
    export_bundle(tmp_path / "rw", tmp_path / "bundle", log=lambda *a: None)
    b = load_bundle(tmp_path / "bundle")
    assert {"generator", "critic", "likelihood", "weight", "refine"} <= set(b.components)
    for method in ("plain", "latent-rs", "dgflow"):
        x1, x2 = (
            np.concatenate([x for _, _, x in pipe.generate(300, bs)])
            for pipe, bs in (
                (
                    Pipeline(
                        b, Runtime("cpu"), method=method, seed=1, options=options_from_flat({"dg_steps": 3})
                    ),
                    bs,
                )
                for bs in (300, 64)
            )
        )
        assert np.isfinite(x1).all() and x1.shape == (300, 2), method
        np.testing.assert_array_equal(x1, x2)
