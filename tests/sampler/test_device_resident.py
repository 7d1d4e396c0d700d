"""The CUDA-side options of the sampler, checked on the CPU where they can be:
  - --cuda-graph's fixed-buffer binding (decode, and DGflow's ping-pong between two bound sessions)
    gives exactly the plain path's samples when it runs on the CPU device;
  - CUDA sessions refuse CPU fallback (session.disable_cpu_ep_fallback) unless --allow-cpu-fallback,
    simulated with an onnxruntime that lists CUDA;
and, marked `cuda`, the same paths on the CUDA provider against the CPU."""

from __future__ import annotations

import types

import numpy as np
import onnxruntime as real_ort
import pytest

from ganflow.sampler import runtime as runtime_mod
from ganflow.sampler.bundle import load_bundle
from ganflow.sampler.errors import DeviceError
from ganflow.sampler.pipeline import Pipeline
from ganflow.sampler.runtime import NO_FALLBACK, Runtime, RuntimeOptions
from ganflow.sampler.sample import SampleOptions, sample_to
from ganflow.sampler.stages import options_from_flat
from tests.conftest import ganflow


def _draw(bundle, rt, method="plain", n=300, batch=128, steps=5, **kw):
    pipe = Pipeline(
        load_bundle(bundle), rt, method=method, seed=4, options=options_from_flat({"dg_steps": steps}), **kw
    )
    zs, xs = zip(*[(z, x) for _, z, x in pipe.generate(n, batch)], strict=True)
    return np.concatenate(zs), np.concatenate(xs)


def _fixed_cpu() -> Runtime:
    rt = Runtime("cpu")
    rt.cuda_graph = True  # the --cuda-graph code path on the CPU device (no capture there)
    return rt


@pytest.mark.parametrize(("method", "steps"), [("plain", 0), ("dgflow", 5), ("dgflow", 4), ("dgflow", 0)])
def test_fixed_buffers_give_the_plain_samples(mnist_bundle, method, steps):
    """300 samples in batches of 128: the last batch (44) runs zero-padded in the 128-row buffers;
    odd and even step counts end in either ping-pong buffer."""
    z0, x0 = _draw(mnist_bundle, Runtime("cpu"), method, steps=steps)
    z1, x1 = _draw(mnist_bundle, _fixed_cpu(), method, steps=steps)
    assert np.array_equal(z0, z1) and np.array_equal(x0, x1)


def test_fixed_buffers_with_fp16_and_a_proposal_stage(mnist_fp16_bundle):
    a = _draw(mnist_fp16_bundle, Runtime("cpu", precision="fp16"), "dgflow", n=70, batch=32)
    rt = Runtime("cpu", precision="fp16")
    rt.cuda_graph = True
    b = _draw(mnist_fp16_bundle, rt, "dgflow", n=70, batch=32)
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))


def test_cuda_graph_without_cuda_is_a_one_line_error(mnist_bundle, tmp_path):
    with pytest.raises(DeviceError, match="--cuda-graph needs the CUDA provider"):
        Runtime("cpu", cuda_graph=True)
    r = ganflow("sample", str(mnist_bundle), "-n", "8", "--out", str(tmp_path / "a.npz"), "--cuda-graph",
                check=False)  # fmt: skip
    assert r.returncode != 0 and "drop --cuda-graph" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "a.npz").exists()


# --- CPU fallback refused on CUDA (simulated) --------------------------------------------------


class _FakeSession:
    """A CPU session that reports the providers a CUDA session would."""

    def __init__(self, sess, providers):
        self._s, self._p = sess, providers

    def get_providers(self):
        return self._p

    def __getattr__(self, k):
        return getattr(self._s, k)


def _fake_ort(calls: list, cuda_loads=True, cpu_nodes=False):
    """onnxruntime that lists CUDA. With cuda_loads, sessions report CUDA first; with cpu_nodes,
    a session that disables CPU fallback fails as onnxruntime does when a node would fall back."""

    def session(path, options=None, providers=None, enable_fallback=1):
        try:
            strict = options.get_session_config_entry(NO_FALLBACK) == "1"
        except RuntimeError:  # onnxruntime raises for a key that was never set
            strict = False
        calls.append((strict, [p[0] if isinstance(p, tuple) else p for p in providers]))
        assert not strict or enable_fallback == 0  # else its wrapper retries on the CPU with the flag
        if strict and not cuda_loads:  # the CUDA provider's own error (no retry: enable_fallback=0)
            raise RuntimeError("CUDA failure 100: no CUDA-capable device is detected")
        if strict and cpu_nodes:
            raise RuntimeError(
                "[ONNXRuntimeError] : 1 : FAIL : This session contains graph nodes that are assigned to the "
                "default CPU EP, but fallback to CPU EP has been explicitly disabled by the user."
            )
        sess = real_ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        names = ["CUDAExecutionProvider", "CPUExecutionProvider"] if cuda_loads else ["CPUExecutionProvider"]
        return _FakeSession(sess, names)

    fake = types.SimpleNamespace(**{k: getattr(real_ort, k) for k in ("SessionOptions", "__version__")})
    fake.get_available_providers = lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"]
    fake.InferenceSession = session
    return fake


def test_cuda_sessions_refuse_cpu_fallback(tiny_bundle, monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(runtime_mod, "import_ort", lambda: _fake_ort(calls))
    sample_to(tiny_bundle, tmp_path / "a.npz", 10, SampleOptions(runtime=RuntimeOptions(device="cuda")))
    assert calls and all(c == (True, ["CUDAExecutionProvider"]) for c in calls)  # no explicit CPU EP


def test_a_graph_that_would_fall_back_is_an_error(tiny_bundle, monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(runtime_mod, "import_ort", lambda: _fake_ort(calls, cpu_nodes=True))
    with pytest.raises(DeviceError, match="nodes without a CUDA kernel .* pass --allow-cpu-fallback"):
        sample_to(tiny_bundle, tmp_path / "a.npz", 10, SampleOptions(runtime=RuntimeOptions(device="auto")))
    assert not (tmp_path / "a.npz").exists()
    calls.clear()
    sample_to(
        tiny_bundle,
        tmp_path / "b.npz",
        10,
        SampleOptions(runtime=RuntimeOptions(device="cuda", allow_cpu_fallback=True)),
    )
    assert calls and all(c == (False, ["CUDAExecutionProvider", "CPUExecutionProvider"]) for c in calls)


def test_a_cuda_provider_that_does_not_load_still_falls_back_under_auto(tiny_bundle, monkeypatch, tmp_path):
    monkeypatch.setattr(runtime_mod, "import_ort", lambda: _fake_ort([], cuda_loads=False))
    report = sample_to(
        tiny_bundle, tmp_path / "a.npz", 10, SampleOptions(runtime=RuntimeOptions(device="auto"))
    )
    assert report["provider"] == "CPUExecutionProvider" and "failed to load" in report["device_note"]
    with pytest.raises(DeviceError, match="--device cuda is unavailable"):
        sample_to(tiny_bundle, tmp_path / "b.npz", 10, SampleOptions(runtime=RuntimeOptions(device="cuda")))


# --- on the CUDA provider ------------------------------------------------------------------------


@pytest.mark.cuda
@pytest.mark.parametrize("method", ["plain", "dgflow"])
def test_cuda_graph_matches_the_cpu(mnist_bundle, method):
    z0, x0 = _draw(mnist_bundle, Runtime("cpu"), method, steps=5)
    zc, xc = _draw(mnist_bundle, Runtime("cuda"), method, steps=5)
    np.testing.assert_allclose(zc, z0, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(xc, x0, rtol=1e-3, atol=1e-3)
    rt = Runtime("cuda", cuda_graph=True)
    for _ in range(2):  # the second pass replays the captured graphs
        zg, xg = _draw(mnist_bundle, rt, method, steps=5)
        np.testing.assert_allclose(zg, zc, rtol=1e-4, atol=1e-5)  # the same kernels, captured
        np.testing.assert_allclose(xg, xc, rtol=1e-4, atol=1e-5)


@pytest.mark.cuda
@pytest.mark.parametrize("method", ["plain", "dgflow"])
def test_fp16_on_cuda_is_close_to_fp32(mnist_fp16_bundle, method):
    """Plain decoding stays within a few fp16 ulps of [-1, 1]; after 25 DGflow steps a few
    trajectories part (as with fp16 rounding on the CPU: benchmarks/results/fp16_agreement_cpu.md),
    so the check there is on the bulk of the samples."""
    _, x32 = _draw(mnist_fp16_bundle, Runtime("cpu"), method, steps=25)
    for graph in (False, True):
        rt = Runtime("cuda", precision="fp16", cuda_graph=graph)
        _, x16 = _draw(mnist_fp16_bundle, rt, method, steps=25)
        diff = np.abs(x16 - x32)
        assert diff.mean() < 0.01, diff.mean()
        if method == "plain":
            assert diff.max() < 0.05, diff.max()
        else:
            assert (diff.reshape(len(diff), -1).max(1) < 0.1).mean() > 0.8


@pytest.mark.cuda
def test_every_graph_loads_on_cuda_without_fallback(mnist_fp16_bundle, tiny_bundle):
    for bundle in (mnist_fp16_bundle, tiny_bundle):
        b = load_bundle(bundle)
        for precision in ("fp32", "fp16"):
            rt = Runtime("cuda", precision=precision)
            for comp in b.components.values():
                assert rt.session(comp).get_providers()[0] == "CUDAExecutionProvider"


def test_cuda_graph_sessions_are_never_shared(tiny_bundle, monkeypatch):
    """A captured session replays with the buffers it was captured with: each caller gets its own."""
    calls = []
    monkeypatch.setattr(runtime_mod, "import_ort", lambda: _fake_ort(calls))
    rt = Runtime("cuda", cuda_graph=True)
    comp = load_bundle(tiny_bundle).components["generator"]
    assert rt.session(comp, "decode-64") is not rt.session(comp, "decode-64")
    assert rt.session(comp) is rt.session(comp)  # plain sessions stay shared
