"""The CUDA provider gives the CPU provider's samples (skipped without onnxruntime CUDA)."""

from __future__ import annotations

import numpy as np
import pytest

from ganflow.sampler.runtime import RuntimeOptions
from ganflow.sampler.sample import SampleOptions, sample_to


@pytest.mark.cuda
@pytest.mark.parametrize("device", ["cuda", "auto"])
def test_cuda_matches_cpu(tiny_bundle, tmp_path, device):
    cpu = sample_to(
        tiny_bundle, tmp_path / "cpu.npz", 5000, SampleOptions(seed=3, runtime=RuntimeOptions(device="cpu"))
    )
    gpu = sample_to(
        tiny_bundle, tmp_path / "gpu.npz", 5000, SampleOptions(seed=3, runtime=RuntimeOptions(device=device))
    )
    assert cpu["provider"] == "CPUExecutionProvider"
    assert gpu["provider"] == "CUDAExecutionProvider", gpu
    a, b = np.load(tmp_path / "cpu.npz"), np.load(tmp_path / "gpu.npz")
    assert np.array_equal(a["latents"], b["latents"])  # latents are drawn on the host, seeded
    np.testing.assert_allclose(b["samples"], a["samples"], atol=1e-4, rtol=1e-4)


@pytest.mark.cuda
def test_tf32_is_opt_in(tiny_bundle, tmp_path):
    rep = sample_to(
        tiny_bundle, tmp_path / "t.npz", 1000, SampleOptions(runtime=RuntimeOptions(device="cuda", tf32=True))
    )
    assert rep["provider"] == "CUDAExecutionProvider"
    sample_to(tiny_bundle, tmp_path / "c.npz", 1000, SampleOptions(runtime=RuntimeOptions(device="cpu")))
    diff = np.abs(np.load(tmp_path / "t.npz")["samples"] - np.load(tmp_path / "c.npz")["samples"])
    assert diff.max() < 0.1  # TF32 is close, not exact
