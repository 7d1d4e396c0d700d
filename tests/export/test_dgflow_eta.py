"""The DGflow step size measured at export (issue 17): defaults that do not silently break a bundle,
the sampling warning, and old bundles keeping their defaults."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from torch import nn

from ganflow.export.dgflow_eta import ETA_GRID, LATENTS, measure_eta
from ganflow.export.refine import DGflowStep, build_step
from ganflow.sampler.bundle import METHOD_DEFAULTS, load_bundle
from ganflow.sampler.stages.dgflow import far_latents, far_samples, far_warning
from tests.conftest import ROOT, ganflow

GOLDEN = ROOT / "tests" / "data" / "golden-bundle"


class Outward(nn.Module):
    """d(x) = a |x|^2 / 2: the DGflow drift a x pushes every latent outward by (1 + eta a) per step."""

    def __init__(self, a: float) -> None:
        super().__init__()
        self.a = a

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.a * (x * x).sum(dim=1, keepdim=True) / 2


def _step(a: float) -> DGflowStep:
    return build_step(nn.Identity(), Outward(a))  # G(z) = z


def test_the_largest_eta_that_keeps_samples_in_range():
    # a = 2, 25 steps, G(z) = z: growth (1 + 2 eta)^25 = 95x at 0.1, 4.3x at 0.03, 1.64x at 0.01,
    # 1.16x at 0.003. At 0.01 the latents stay within 1.5 max(|z_0|, sqrt(2) + 3) but the outermost
    # samples leave 1.5x the spread of G(z_0): far in the data space; 0.003 keeps both
    record = measure_eta(_step(2.0), 2, METHOD_DEFAULTS["dgflow"], log=lambda *a: None)
    assert record["eta"] == 0.003 and record["grid"] == [0.1, 0.03, 0.01, 0.003]
    assert record["far"][0] > 0.9 and 0 < record["far"][2] < record["far"][1] and record["far"][3] == 0
    assert record["latents"] == LATENTS and record["steps"] == 25 and "no data" in record["rule"]
    flat = measure_eta(_step(0.0), 2, METHOD_DEFAULTS["dgflow"], log=lambda *a: None)
    assert flat["eta"] == 0.1 and flat["far"] == [0.0]  # nothing moves: the authors' eta stays
    steep = measure_eta(_step(1e4), 2, METHOD_DEFAULTS["dgflow"], log=print)
    assert steep["eta"] == ETA_GRID[-1] and steep["far"][-1] > 0  # none passes: the smallest, said


def test_the_far_rules():
    z0 = np.array([[0.1, 0.0], [3.0, 4.0], [0.0, 0.0]])
    z = np.array([[6.0, 0.0], [6.0, 8.0], [np.nan, 0.0]])  # bound 1.5 * max(|z0|, 4.41): 6.62, 7.5
    assert far_latents(z0, z).tolist() == [False, True, True]
    x0 = np.array([[-1.0, 0.0], [1.0, 0.0]])  # mean 0, spread 1
    assert far_samples(x0, np.array([[1.4, 0.0], [0.0, 1.6], [np.inf, 0]])).tolist() == [False, True, True]
    stats = {"dgflow_far": 30, "dgflow_refined": 1000, "dgflow_eta": 0.1}
    assert "--dg-eta 0.01" in far_warning(stats) and "30 of 1,000 latents (3.0%)" in far_warning(stats)
    assert far_warning({**stats, "dgflow_far": 10}) is None  # 1%: no warning


@pytest.fixture(scope="module")
def steep_bundle(tiny_run, tmp_path_factory):
    """The tiny run with its critic's last layer scaled up 1000x: DGflow at eta 0.1 throws latents far."""
    from ganflow.export import export_bundle
    from ganflow.models.checkpoint import load_modules, save_checkpoint

    root = tmp_path_factory.mktemp("steep")
    shutil.copytree(tiny_run, root / "run")
    meta, modules = load_modules(root / "run")
    last = [m for m in modules["critic"].modules() if isinstance(m, nn.Linear)][-1]
    with torch.no_grad():
        last.weight.mul_(1000.0)
    save_checkpoint(root / "run", modules, meta)
    export_bundle(root / "run", root / "bundle", log=lambda *a: None)
    return root / "bundle"


def test_export_records_the_measured_eta_as_the_bundles_default(steep_bundle, tiny_bundle):
    for path in (steep_bundle, tiny_bundle):
        b = load_bundle(path)
        record = b.manifest["provenance"]["dgflow_eta"]
        assert b.defaults("dgflow") == {**METHOD_DEFAULTS["dgflow"], "eta": record["eta"]}  # one source
        assert record["grid"] == list(ETA_GRID[: len(record["grid"])]) and record["far"][-1] == 0
    steep = load_bundle(steep_bundle).manifest["provenance"]["dgflow_eta"]
    assert steep["eta"] < 0.1 and steep["far"][0] > 0.01
    shown = ganflow("info", str(steep_bundle)).stdout
    assert (
        f"dgflow: eta {steep['eta']:g}," in shown
        and f"dgflow eta {steep['eta']:g}, measured at export" in shown
    )


def test_sampling_warns_when_dgflow_moves_latents_far(steep_bundle, tmp_path):
    args = ["sample", str(steep_bundle), "-n", "2000", "--method", "dgflow", "--device", "cpu"]
    proc = ganflow(*args, "--dg-eta", "0.1", "--out", str(tmp_path / "a.npz"))
    warnings = [ln for ln in proc.stderr.splitlines() if ln.startswith("warning: dgflow moved")]
    assert len(warnings) == 1 and "try a smaller --dg-eta (e.g. --dg-eta 0.01)" in warnings[0], proc.stderr
    proc = ganflow(*args, "--out", str(tmp_path / "b.npz"))  # the bundle's measured eta: quiet
    assert "warning" not in proc.stderr, proc.stderr


def test_old_bundles_keep_their_defaults():
    """The golden bundle predates the measurement: its manifest's eta (0.1) stays, and `info` says
    nothing about a measurement (test_golden: its samples stay bit-identical)."""
    manifest = json.loads((GOLDEN / "config.json").read_text())
    assert "dgflow_eta" not in manifest["provenance"]
    assert load_bundle(GOLDEN).defaults("dgflow")["eta"] == 0.1 == METHOD_DEFAULTS["dgflow"]["eta"]
    assert "measured at export" not in ganflow("info", str(GOLDEN)).stdout
