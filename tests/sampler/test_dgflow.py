"""DGflow in the sampler: the refine graph run K times with seeded per-step noise, torch-free."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from ganflow.sampler.bundle import load_bundle
from ganflow.sampler.errors import InputError, NumericsError
from ganflow.sampler.pipeline import METHODS, Pipeline, supported_methods
from ganflow.sampler.runtime import Runtime
from ganflow.sampler.stages import REFINERS, options_from_flat
from tests.conftest import BLOCK_TORCH, ganflow


def _latents(bundle, n=40, batch=256, device="cpu", options=None, **kw) -> np.ndarray:
    pipe = Pipeline(load_bundle(bundle), Runtime(device), options=options_from_flat(options or {}), **kw)
    return np.concatenate([z for _, z, _ in pipe.generate(n, batch)]), pipe.stats


def test_manifest_defaults_are_the_authors_but_eta_measured(tiny_bundle):
    """The authors' steps, gamma and f; eta measured at export (tests/export/test_dgflow_eta.py)."""
    b = load_bundle(tiny_bundle)
    assert "refine" in b.components and "dgflow" in supported_methods(b)
    eta = b.manifest["provenance"]["dgflow_eta"]["eta"]
    assert b.defaults("dgflow") == {"eta": eta, "gamma": 0.01, "steps": 25, "f": "kl"} and 1e-4 <= eta <= 0.1
    assert [i["name"] for i in b.components["refine"].inputs] == ["z", "noise", "eta", "gamma"]
    assert METHODS.get("dgflow").refine == "dgflow" and REFINERS.get("dgflow").needs == ("refine",)


def test_steps_are_the_graph_with_seeded_noise(tiny_bundle):
    """K steps = K calls of refine/model.onnx; step k of sample i uses rng([seed, 4, i // 1024, k])."""
    import onnxruntime as ort

    z0, _ = _latents(tiny_bundle, method="plain", seed=3)
    z3, stats = _latents(tiny_bundle, method="dgflow", seed=3, options={"dg_steps": 3, "dg_eta": 0.2})
    b = load_bundle(tiny_bundle)
    sess = ort.InferenceSession(str(b.components["refine"].path), providers=["CPUExecutionProvider"])
    z = z0.copy()
    for k in range(3):
        noise = np.random.default_rng([3, 4, 0, k]).standard_normal((1024, b.latent_dim), dtype=np.float32)
        feeds = {
            "z": z,
            "noise": noise[:40],
            "eta": np.array(0.2, np.float32),
            "gamma": np.array(0.01, np.float32),
        }
        (z,) = sess.run(None, feeds)
    np.testing.assert_allclose(z3, z, rtol=1e-6, atol=1e-6)
    assert not np.allclose(z3, z0, atol=1e-3)  # the steps moved the latents
    assert stats["dgflow_steps"] == 3 and stats["dgflow_eta"] == 0.2 and stats["dgflow_seconds"] > 0


def test_sample_i_depends_only_on_seed_and_i(tiny_bundle):
    opts = {"dg_steps": 4}
    a, _ = _latents(tiny_bundle, n=1100, batch=1100, method="dgflow", options=opts)
    b, _ = _latents(tiny_bundle, n=1100, batch=37, method="dgflow", options=opts)
    np.testing.assert_array_equal(a, b)  # across the 1024 block boundary too
    c, _ = _latents(tiny_bundle, n=1100, batch=1100, method="dgflow", seed=1, options=opts)
    assert not np.allclose(a, c)


def test_zero_steps_is_plain(tiny_bundle):
    z0, _ = _latents(tiny_bundle, method="plain")
    zk, _ = _latents(tiny_bundle, method="dgflow", options={"dg_steps": 0})
    np.testing.assert_array_equal(z0, zk)


def test_refine_after_a_proposal_flag(tiny_bundle):
    a, _ = _latents(tiny_bundle, method="plain", refine="dgflow", options={"dg_steps": 2})
    b, _ = _latents(tiny_bundle, method="dgflow", options={"dg_steps": 2})
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "options,match",
    [
        ({"dg_eta": -0.1}, "dg-eta"),
        ({"dg_eta": float("nan")}, "dg-eta"),
        ({"dg_gamma": -1.0}, "dg-gamma"),
        ({"dg_steps": -2}, "dg-steps"),
        ({"dg_f": "js"}, "exported for f=kl"),
    ],
)
def test_bad_options(tiny_bundle, options, match):
    with pytest.raises(InputError, match=match):
        Pipeline(
            load_bundle(tiny_bundle), Runtime("cpu"), method="dgflow", options=options_from_flat(options)
        )


def test_diverging_steps_raise(tiny_bundle):
    with pytest.raises(NumericsError, match="lower --dg-eta"):
        _latents(tiny_bundle, method="dgflow", options={"dg_eta": 1e38, "dg_gamma": 1e38, "dg_steps": 3})


def test_cli_reports_steps_and_time_without_torch(tiny_bundle, tmp_path):
    code = BLOCK_TORCH + (
        "import sys; from ganflow.sampler.cli import main; sys.argv = ['ganflow', *sys.argv[1:]]; main()"
    )
    out = tmp_path / "s.npz"
    args = [
        "sample",
        str(tiny_bundle),
        "-n",
        "30",
        "--method",
        "dgflow",
        "--dg-steps",
        "2",
        "--out",
        str(out),
    ]
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "dgflow: 2 steps (f kl, eta 0.1, gamma 0.01) in" in proc.stdout
    assert np.load(out)["samples"].shape == (30, 2)
    bad_args = ["--method", "dgflow", "--dg-eta", "0", "--out", str(tmp_path / "b.npz")]
    bad = ganflow("sample", str(tiny_bundle), *bad_args, check=False)
    assert bad.returncode != 0 and bad.stderr.startswith("error: dgflow needs --dg-eta > 0")
    assert not (tmp_path / "b.npz").exists()


def test_io_bound_loop_equals_the_plain_loop(tiny_bundle):
    """The device-resident loop (I/O binding, what runs on CUDA) on the CPU device: the same z
    after K steps as feeding numpy arrays each step, for batches inside and across a block."""
    from ganflow.sampler.stages.base import Context

    bundle = load_bundle(tiny_bundle)
    stage_cls = REFINERS.get("dgflow")
    stage = stage_cls(Context(bundle, Runtime("cpu"), seed=3), stage_cls.Options(steps=4))
    z = np.random.default_rng(0).standard_normal((90, bundle.latent_dim)).astype(np.float32)
    for lo in (0, 1000):  # 1000..1089 spans two noise blocks
        plain = stage._run_cpu(z.copy(), lo, lo + 90)
        bound = stage._run_bound(z.copy(), lo, lo + 90, device="cpu")
        np.testing.assert_array_equal(bound, plain)
        assert not np.allclose(plain, z)


@pytest.mark.cuda
def test_cuda_io_binding_matches_cpu(tiny_bundle):
    cpu, _ = _latents(tiny_bundle, n=300, method="dgflow", options={"dg_steps": 5})
    gpu, _ = _latents(tiny_bundle, n=300, method="dgflow", device="cuda", options={"dg_steps": 5})
    np.testing.assert_allclose(gpu, cpu, rtol=1e-3, atol=1e-4)
