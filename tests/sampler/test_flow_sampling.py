"""`ganflow sample --method flow`: z from the bundle's flow graph, per-index deterministic, torch-free."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from ganflow.sampler.bundle import load_bundle
from ganflow.sampler.errors import ComponentMissingError
from ganflow.sampler.runtime import RuntimeOptions
from ganflow.sampler.sample import SampleOptions, sample_to
from tests.conftest import BLOCK_TORCH


@pytest.fixture(scope="module")
def flow_bundle(tmp_path_factory):
    """A tiny FIS-GAN (2-D data, MAF prior so sampling is the unrolled sequential graph), exported."""
    from ganflow.export import export_bundle
    from ganflow.sampler.data import load_dataset
    from ganflow.training import TrainConfig, default_components
    from ganflow.training.fisgan import FISConfig, flow_component, train_fisgan

    root = tmp_path_factory.mktemp("fis")
    ds = load_dataset("gaussians8")
    comps = default_components(ds.spec)
    comps["flow"] = flow_component("maf", 2, layers=2, hidden=16)
    cfg = TrainConfig(
        steps=20, batch_size=64, eval_every=20, sample_every=20, ckpt_every=20, eval_samples=128
    )
    train_fisgan(
        root / "run", ds, comps, cfg, FISConfig(refit_every=5, refit_epochs=3, n_aug=256), progress=False
    )
    export_bundle(root / "run", root / "bundle", log=lambda *a: None)
    return root


def test_bundle_has_both_flow_graphs(flow_bundle):
    b = load_bundle(flow_bundle / "bundle")
    assert b.components["flow"].path == b.root / "flow/sample.onnx"
    assert b.components["flow_log_prob"].path == b.root / "flow/log_prob.onnx"
    assert [o["name"] for o in b.components["flow"].outputs] == ["z", "log_q"]


def test_flow_method_draws_the_flow_of_the_base_stream(flow_bundle, tmp_path):
    """z_i = F^-1(h_i) with h_i from the flow stage's own seeded block stream (stream 3)."""
    import torch

    from ganflow.models import load_modules

    sample_to(
        flow_bundle / "bundle",
        tmp_path / "s.npz",
        300,
        SampleOptions(method="flow", seed=5, runtime=RuntimeOptions(device="cpu")),
    )
    z = np.load(tmp_path / "s.npz")["latents"]
    h = np.random.default_rng([5, 3, 0]).standard_normal((1024, 2), dtype=np.float32)[:300]
    _, mods = load_modules(flow_bundle / "run")
    with torch.no_grad():
        ref, _ = mods["flow"].inverse(torch.from_numpy(h))
    np.testing.assert_allclose(z, ref.numpy(), rtol=1e-4, atol=1e-5)
    assert not np.allclose(z, h, atol=1e-3), "the refitted flow is not the identity"
    plain = tmp_path / "p.npz"
    sample_to(
        flow_bundle / "bundle",
        plain,
        300,
        SampleOptions(method="plain", seed=5, runtime=RuntimeOptions(device="cpu")),
    )
    assert not np.allclose(np.load(plain)["latents"], z)


def test_flow_samples_depend_only_on_seed_and_index(flow_bundle, tmp_path):
    b = flow_bundle / "bundle"
    sample_to(
        b,
        tmp_path / "a.npz",
        2500,
        SampleOptions(method="flow", seed=2, batch_size=100, runtime=RuntimeOptions(device="cpu")),
    )
    for i in range(2):
        sample_to(
            b,
            tmp_path / "b.npz",
            2500,
            SampleOptions(
                method="flow",
                seed=2,
                batch_size=777,
                num_shards=2,
                shard_index=i,
                runtime=RuntimeOptions(device="cpu"),
            ),
        )
    a = np.load(tmp_path / "a.npz")["samples"]
    parts = [np.load(tmp_path / f"b-0000{i}-of-00002.npz")["samples"] for i in range(2)]
    assert np.array_equal(a, np.concatenate(parts))


def test_flow_method_without_torch(flow_bundle, tmp_path):
    code = BLOCK_TORCH + (
        "import sys; from ganflow.sampler.cli import main; sys.argv = ['ganflow', *sys.argv[1:]]; main()"
    )
    out = tmp_path / "s.npz"
    args = ["sample", str(flow_bundle / "bundle"), "-n", "50", "--method", "flow", "--out", str(out)]
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert np.load(out)["samples"].shape == (50, 2)


def test_flow_method_needs_a_flow(tiny_bundle, tmp_path):
    with pytest.raises(ComponentMissingError, match="no 'flow' component"):
        sample_to(
            tiny_bundle,
            tmp_path / "s.npz",
            10,
            SampleOptions(method="flow", runtime=RuntimeOptions(device="cpu")),
        )
