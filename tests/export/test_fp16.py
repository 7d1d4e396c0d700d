"""fp16 graph variants (export --fp16): validated against fp32, hashed, picked by --precision fp16."""

from __future__ import annotations

import json
import shutil

import numpy as np
import onnx
import pytest

from ganflow.export import fp16 as fp16_mod
from ganflow.sampler.bundle import load_bundle
from ganflow.sampler.errors import BundleError, InputError
from ganflow.sampler.pipeline import Pipeline
from ganflow.sampler.runtime import Runtime
from ganflow.sampler.stages import options_from_flat
from tests.conftest import ganflow


def _draw(bundle, precision, method, n=150, steps=3):
    pipe = Pipeline(load_bundle(bundle), Runtime("cpu", precision=precision), method=method, seed=2,
                    options=options_from_flat({"dg_steps": steps}))  # fmt: skip
    return np.concatenate([x for _, _, x in pipe.generate(n, 64)]), pipe.stats


def test_variants_are_listed_hashed_and_really_fp16(mnist_fp16_bundle):
    manifest = json.loads((mnist_fp16_bundle / "config.json").read_text())
    comps = manifest["components"]
    assert set(comps) == {"generator", "critic", "refine", "ddls"}
    for name, c in comps.items():
        v = c["variants"]["fp16"]
        assert v["path"] == c["path"].replace(".onnx", ".fp16.onnx")
        assert 0 < v["rel_error_vs_fp32"] <= fp16_mod.FP16_RTOL[name]
        model = onnx.load(mnist_fp16_bundle / v["path"])
        big = [t for t in model.graph.initializer if np.prod(t.dims) >= 64]  # the weights
        half = sum(np.prod(t.dims) for t in big if t.data_type == onnx.TensorProto.FLOAT16)
        assert half >= 0.9 * sum(np.prod(t.dims) for t in big), name  # (BatchNorm keeps a fp32 constant)
        io = [x.type.tensor_type.elem_type for x in [*model.graph.input, *model.graph.output]]
        assert set(io) == {onnx.TensorProto.FLOAT}  # same signature as the fp32 graph
    b = load_bundle(mnist_fp16_bundle)
    assert set(b.components["generator"].variants) == {"fp16"}
    card = (mnist_fp16_bundle / "README.md").read_text()
    assert "validated against fp32 at export): critic, ddls, generator, refine." in card


@pytest.mark.parametrize("method", ["plain", "dgflow"])
def test_fp16_samples_are_close_to_fp32(mnist_fp16_bundle, method):
    x32, s32 = _draw(mnist_fp16_bundle, "fp32", method)
    x16, s16 = _draw(mnist_fp16_bundle, "fp16", method)
    assert set(s32["precision"].values()) == {"fp32"}
    assert set(s16["precision"].values()) == {"fp16"}
    err = np.abs(x16 - x32).max()
    assert 0 < err < 0.02, err  # pixels in [-1, 1]; different graphs, so never bit-equal


def test_fp16_needs_variants(mnist_bundle, tmp_path):
    with pytest.raises(InputError, match="no fp16 graphs: export it with `ganflow export --fp16`"):
        _draw(mnist_bundle, "fp16", "plain")
    r = ganflow("sample", str(mnist_bundle), "-n", "8", "--out", str(tmp_path / "a.npz"), "--precision",
                "fp16", check=False)  # fmt: skip
    assert r.returncode != 0 and "ganflow export --fp16" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "a.npz").exists()


def test_tampered_variant_is_refused(mnist_fp16_bundle, tmp_path):
    copy = tmp_path / "b"
    shutil.copytree(mnist_fp16_bundle, copy)
    path = copy / "generator" / "model.fp16.onnx"
    data = bytearray(path.read_bytes())
    data[-10] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(BundleError, match=r"generator \(fp16\) fails its sha256 check"):
        load_bundle(copy)
    path.unlink()
    with pytest.raises(BundleError, match="incomplete"):
        load_bundle(copy)


@pytest.mark.slow
def test_a_variant_past_the_tolerance_is_not_shipped(mnist_bundle, tmp_path, monkeypatch):
    from ganflow.export import export_bundle

    monkeypatch.setattr(fp16_mod, "FP16_RTOL", dict.fromkeys(fp16_mod.FP16_RTOL, 1e-9))
    lines = []
    m = export_bundle(mnist_bundle.parent / "run", tmp_path / "b", log=lines.append, fp16=True)
    assert not any("variants" in c for c in m["components"].values())
    assert not list((tmp_path / "b").rglob("*.fp16.onnx"))
    assert sum("not shipped" in s for s in lines) == 4, lines


@pytest.mark.slow
def test_cli_export_fp16(mnist_bundle, tmp_path):
    r = ganflow("export", str(mnist_bundle.parent / "run"), "--out", str(tmp_path / "b"), "--fp16")
    assert "generator fp16" in r.stdout
    r = ganflow("sample", str(tmp_path / "b"), "-n", "16", "--out", str(tmp_path / "s.npz"), "--precision",
                "fp16", "--device", "cpu")  # fmt: skip
    assert "precision: generator fp16" in r.stdout
    assert "note: fp16 graphs run on the CPU through fp32 kernels" in r.stderr


def test_non_finite_fp16_output_fails_validation():
    """A weight that overflows fp16 gives inf/NaN: the error is inf, never a NaN that compares False."""
    assert fp16_mod._rel(np.array([np.nan, 0.0]), np.array([1.0, 0.0]), 0.0) == float("inf")
    assert fp16_mod._rel(np.array([np.inf]), np.array([1.0]), 0.0) == float("inf")
    assert fp16_mod._rel(np.array([1.01, 0.0]), np.array([1.0, 0.0]), 0.0) == pytest.approx(0.01)
