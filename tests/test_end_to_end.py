"""The whole path from the command line: train a 2-D GAN, export it, sample torch-free, measure."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ganflow.sampler.metrics.toy2d import TOY_MODES, mode_metrics
from tests.conftest import ganflow

pytestmark = pytest.mark.slow  # 6000 training steps: run by CI (`.ci/run`), not by default


def test_gaussians25_train_export_sample(tmp_path):
    run, bundle, out = tmp_path / "run", tmp_path / "bundle", tmp_path / "samples.npz"
    # the demo's 2-D settings (training/commands.py DEMO["2d"])
    ganflow(
        "train",
        "gan",
        "--data",
        "gaussians25",
        "--out",
        str(run),
        "--arch",
        "mlp",
        "--width",
        "128",
        "--latent-dim",
        "2",
        "--batch-size",
        "512",
        "--lr-g",
        "5e-4",
        "--lr-d",
        "5e-4",
        "--steps",
        "6000",
        "--eval-every",
        "2000",
        "--sample-every",
        "3000",
        "--ckpt-every",
        "3000",
        "--seed",
        "0",
    )
    ganflow("export", str(run), "--out", str(bundle))
    info = json.loads(ganflow("info", str(bundle), "--json").stdout)
    assert info["methods"] == ["ddls", "dgflow", "drs", "mh-gan", "plain"] and set(
        info["integrity"].values()
    ) == {"ok"}
    proc = ganflow("sample", str(bundle), "-n", "10000", "--out", str(out), "--device", "cpu", "--seed", "1")
    assert "wrote 10,000 samples" in proc.stdout
    x = np.load(out)["samples"]
    m = mode_metrics(x, TOY_MODES["gaussians25"])
    print("gaussians25 end-to-end:", m)
    assert m["modes_covered"] >= 20, m
    assert m["hq_rate"] > 0.5, m
