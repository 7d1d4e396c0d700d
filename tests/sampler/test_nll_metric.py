"""The torch-free nll metric: closed-form answers through a bundle's likelihood graph, and its errors."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from ganflow.sampler.bundle import load_bundle
from ganflow.sampler.data import load_dataset
from ganflow.sampler.metrics import METRICS, Evaluator, IdentityFeatures
from ganflow.sampler.metrics.nll import NOISE_SEED, dequantize
from tests.conftest import BLOCK_TORCH, ganflow


def _bundle(tmp_path, gen_cfg: dict, data: dict):
    """An untrained flow (its couplings start as the identity) exported to a bundle."""
    from ganflow.export import export_bundle
    from ganflow.models import build_component, config_to_dict, save_checkpoint

    g = build_component("generator", gen_cfg)
    meta = {
        "components": {"generator": config_to_dict(g)},
        "data": data,
        "summary": {"step": 0, "metrics": {}},
    }
    save_checkpoint(tmp_path / "run", {"generator": g}, meta)
    export_bundle(tmp_path / "run", tmp_path / "bundle", log=lambda *a: None)
    return tmp_path / "bundle"


def test_gaussian_identity_flow_gives_the_closed_form_without_torch(tmp_path):
    """Identity flow + N(0, I) prior on unbounded 2-D data: NLL = mean |x|^2 / 2 + log(2 pi)."""
    spec = {"dataset": "gaussians8", "shape": [2], "range": None}
    cfg = {"arch": "realnvp-mlp", "data_shape": [2], "data_range": None, "hidden": 4, "couplings": 2}
    bundle = _bundle(tmp_path, cfg, spec)
    out = tmp_path / "eval.json"
    code = (
        BLOCK_TORCH
        + "import sys; from ganflow.sampler.cli import main; sys.argv = ['ganflow', *sys.argv[1:]]; main()"
    )
    args = ["eval", str(bundle), "-n", "100", "--metrics", "nll", "--device", "cpu", "--out", str(out)]
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads(out.read_text())["metrics"]
    x = load_dataset("gaussians8", split="test").x[:10_000].astype(np.float64)
    nats = 0.5 * (x**2).sum(1).mean() + math.log(2 * math.pi)
    assert metrics["nll10k_gaussians8-test_nats"] == pytest.approx(nats, rel=1e-5)
    assert metrics["nll10k_gaussians8-test_bpd"] == pytest.approx(nats / (2 * math.log(2)), rel=1e-5)


@pytest.mark.slow
def test_images_are_dequantised_and_reported_in_both_units(tmp_path):
    """Identity NICE with a Gaussian prior on h = logit(y'): log p(y) = sum_i [log N(h_i) +
    log(1 - 2 alpha) - log y'_i - log(1 - y'_i)], y = (k + U) / 256 the dequantised pixels."""
    alpha, shape = 1e-7, [1, 4, 4]
    cfg = {"arch": "nice", "data_shape": shape, "prior": "gaussian", "hidden": 4, "depth": 1}
    bundle = load_bundle(_bundle(tmp_path, cfg, {"dataset": "tiny", "shape": shape, "range": [-1.0, 1.0]}))
    real = (np.random.default_rng(1).integers(0, 256, (40, *shape)) / 127.5 - 1).astype(np.float32)
    ev = Evaluator(real, "tiny", "test", "images", IdentityFeatures(), bundle=bundle, device="cpu")
    assert "nll" in ev.applicable() and "nll" not in ev.defaults()
    got = METRICS.get("nll").fn(ev, {"x": real})
    y = (dequantize(real, (-1.0, 1.0), np.random.default_rng(NOISE_SEED)) + 1) / 2
    yp = alpha + (1 - 2 * alpha) * y
    h = np.log(yp) - np.log1p(-yp)
    terms = -0.5 * h**2 - 0.5 * math.log(2 * math.pi) + math.log(1 - 2 * alpha) - np.log(yp) - np.log1p(-yp)
    nats = -terms.reshape(40, -1).sum(1).mean()
    assert got["nll40_tiny-test_nats"] == pytest.approx(nats, rel=1e-4)
    assert got["nll40_tiny-test_bpd"] == pytest.approx(
        (nats + 16 * math.log(256)) / (16 * math.log(2)), rel=1e-5
    )
    k = np.round((real + 1) * 127.5)
    assert np.all((y * 256 >= k) & (y * 256 < k + 1))  # the noise stays inside each pixel's bin


def test_nll_needs_a_bundle_with_a_likelihood_graph(tiny_bundle, tmp_path):
    proc = ganflow("eval", str(tiny_bundle), "-n", "50", "--metrics", "nll", "--device", "cpu", check=False)
    assert proc.returncode != 0 and "no 'likelihood' component" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    samples = tmp_path / "s.npz"
    np.savez(samples, samples=np.zeros((10, 2), np.float32))
    proc = ganflow("eval", str(samples), "--data", "gaussians25", "--metrics", "nll", check=False)
    assert proc.returncode != 0 and "evaluate a bundle" in proc.stderr
