"""A CUDA provider that is listed but fails to load: --device auto falls back to the CPU and says
so; --device cuda is an error. Simulated with an onnxruntime whose CUDA provider never loads."""

from __future__ import annotations

import types

import onnxruntime as real_ort
import pytest

from ganflow.sampler import runtime
from ganflow.sampler.errors import DeviceError
from ganflow.sampler.runtime import RuntimeOptions
from ganflow.sampler.sample import SampleOptions, sample_to


def _broken_cuda_ort():
    """onnxruntime that lists CUDA but creates CPU sessions, as when libcudnn is missing."""

    def session(path, options=None, providers=None, enable_fallback=1):
        try:
            strict = options.get_session_config_entry(runtime.NO_FALLBACK) == "1"
        except RuntimeError:  # never set
            strict = False
        if strict:  # every node is on the CPU, and CPU fallback was refused: onnxruntime's error
            raise RuntimeError(
                "This session contains graph nodes that are assigned to the default CPU EP, but "
                "fallback to CPU EP has been explicitly disabled by the user."
            )
        return real_ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])

    fake = types.SimpleNamespace(**{k: getattr(real_ort, k) for k in ("SessionOptions", "__version__")})
    fake.get_available_providers = lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"]
    fake.InferenceSession = session
    return fake


@pytest.fixture
def broken_cuda(monkeypatch):
    monkeypatch.setattr(runtime, "import_ort", _broken_cuda_ort)


def test_auto_falls_back_and_says_so(broken_cuda, tiny_bundle, tmp_path, capsys):
    report = sample_to(
        tiny_bundle, tmp_path / "a.npz", 100, SampleOptions(runtime=RuntimeOptions(device="auto"))
    )
    assert report["provider"] == "CPUExecutionProvider"
    assert "failed to load" in report["device_note"]
    assert "running on CPU" in capsys.readouterr().err


def test_cuda_asked_for_is_an_error(broken_cuda, tiny_bundle, tmp_path):
    with pytest.raises(DeviceError, match="--device cuda is unavailable: the CUDA provider failed to load"):
        sample_to(tiny_bundle, tmp_path / "c.npz", 100, SampleOptions(runtime=RuntimeOptions(device="cuda")))
    assert not (tmp_path / "c.npz").exists()
