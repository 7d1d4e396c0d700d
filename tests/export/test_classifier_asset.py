"""The shipped MNIST classifier (sampler/assets/mnist_cnn.onnx): accuracy, architecture, provenance,
and the train -> export path that produced it, end to end on a tiny run."""

from __future__ import annotations

import collections
import json
from importlib.resources import files
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from ganflow.export.classifier import export_classifier
from ganflow.export.onnx_export import export_onnx
from ganflow.models import build_component
from ganflow.sampler.bundle import sha256_file
from ganflow.sampler.data import load_dataset
from ganflow.training.classifier import train_classifier
from tests.conftest import MNIST

ASSETS = Path(str(files("ganflow.sampler.assets")))
ONNX_FILE = ASSETS / "mnist_cnn.onnx"
INFO_FILE = ASSETS / "mnist_cnn.json"


@pytest.fixture(scope="module")
def info() -> dict:
    return json.loads(INFO_FILE.read_text())


@pytest.fixture(scope="module")
def shipped() -> onnx.ModelProto:
    return onnx.load(str(ONNX_FILE))


def _dims(value_info) -> list:
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def test_shipped_accuracy_on_mnist_test(info):
    if not MNIST.is_file():
        pytest.skip(f"{MNIST} is absent")
    import onnxruntime as ort

    ds = load_dataset(str(MNIST), split="test")
    session = ort.InferenceSession(str(ONNX_FILE), providers=["CPUExecutionProvider"])
    predicted = np.concatenate(
        [session.run(["logits"], {"x": ds.x[i : i + 2000]})[0].argmax(1) for i in range(0, len(ds.x), 2000)]
    )
    acc = float((predicted == ds.labels).mean())
    assert len(ds.x) == 10_000
    assert acc >= 0.990
    assert acc == pytest.approx(info["test_accuracy"], abs=0.001)


def test_shipped_graph_matches_the_architecture(info, shipped, tmp_path):
    arch = info["architecture"]
    module = build_component("classifier", arch).eval()
    # distinct random values everywhere: the exporter shares initializers with equal contents
    # (fresh BatchNorm weights are all ones), which would change the fresh graph's initializers
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for t in module.state_dict().values():
            if t.is_floating_point():
                t.copy_(torch.rand(t.shape, generator=gen) + 0.5)
    fresh_path = tmp_path / "fresh.onnx"
    fresh = export_onnx(
        module, [torch.randn(2, *arch["data_shape"])], ["x"], ["logits", "features"], fresh_path
    )

    def ops(m: onnx.ModelProto) -> collections.Counter:
        return collections.Counter(n.op_type for n in m.graph.node)

    def init_shapes(m: onnx.ModelProto) -> collections.Counter:
        return collections.Counter(tuple(t.dims) for t in m.graph.initializer)

    assert ops(shipped) == ops(fresh)
    assert init_shapes(shipped) == init_shapes(fresh)
    assert [i.name for i in shipped.graph.input] == ["x"]
    assert [o.name for o in shipped.graph.output] == ["logits", "features"]
    (x,) = shipped.graph.input
    logits, features = shipped.graph.output
    batch = _dims(x)[0]
    assert isinstance(batch, str) and batch  # symbolic batch axis
    assert _dims(x) == [batch, *arch["data_shape"]]
    assert _dims(logits) == [batch, 10] and arch["n_classes"] == 10
    assert _dims(features) == [batch, arch["hidden"]]
    assert [o["shape"] for o in info["outputs"]] == [["batch", 10], ["batch", arch["hidden"]]]


def test_shipped_file_is_self_contained_and_hashed(info, shipped):
    assert info["sha256"] == sha256_file(ONNX_FILE)
    assert all(t.data_location == onnx.TensorProto.DEFAULT for t in shipped.graph.initializer)
    assert ONNX_FILE.stat().st_size < 2_000_000
    assert info["provenance"]["command"].startswith("ganflow train classifier")
    assert info["provenance"]["data"]["dataset"] == "mnist"


def test_tiny_train_and_export(tmp_path):
    if not MNIST.is_file():
        pytest.skip(f"{MNIST} is absent")
    run = tmp_path / "run"
    meta = train_classifier(
        run, str(MNIST), epochs=1, batch_size=64, limit=512, channels=4, hidden=16, progress=False
    )
    assert {"model.safetensors", "config.json", "metrics.jsonl"} <= {p.name for p in run.iterdir()}
    assert meta["summary"]["step"] == 512 // 64
    assert 0.0 <= meta["summary"]["metrics"]["test_accuracy"] <= 1.0
    (line,) = (run / "metrics.jsonl").read_text().splitlines()
    assert json.loads(line)["epoch"] == 1
    out = tmp_path / "out" / "cnn.onnx"
    info = export_classifier(run, out)  # raises ExportError if onnxruntime disagrees with torch
    assert info["parity_max_abs_diff"] < 1e-3
    assert json.loads(out.with_suffix(".json").read_text()) == info
    assert info["sha256"] == sha256_file(out)
    assert info["architecture"]["hidden"] == 16
    assert sorted(p.name for p in out.parent.iterdir()) == ["cnn.json", "cnn.onnx"]  # no temp files left


def test_resume_after_an_interrupted_epoch(tmp_path, monkeypatch):
    """Killed during epoch 2 of 3 (after epoch 1's checkpoint), resumed: the same weights and log as
    a run that was never interrupted (one-cycle schedule, Adam, shuffles, shifts and dropout)."""
    if not MNIST.is_file():
        pytest.skip(f"{MNIST} is absent")
    from safetensors.numpy import load_file

    import ganflow.training.classifier as tc

    kw = dict(epochs=3, batch_size=64, limit=256, channels=4, hidden=16, progress=False, device="cpu")
    ref, run = tmp_path / "ref", tmp_path / "run"
    train_classifier(ref, str(MNIST), **kw)
    real, calls = tc.accuracy, []

    def dies_in_epoch_2(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(tc, "accuracy", dies_in_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        train_classifier(run, str(MNIST), **kw)
    monkeypatch.setattr(tc, "accuracy", real)
    assert json.loads((run / "config.json").read_text())["summary"]["step"] == 256 // 64
    meta = train_classifier(run, str(MNIST), epochs=99, lr=5.0, resume=True, progress=False, device="cpu")
    assert meta["summary"]["step"] == 3 * 256 // 64 and meta["train"]["epochs"] == 3  # the run's options
    a, b = load_file(ref / "model.safetensors"), load_file(run / "model.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    epochs = [json.loads(line)["epoch"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert epochs == [1, 2, 3]
    # and from the command line: a finished run resumes to nothing new and exports again
    from tests.conftest import ganflow

    proc = ganflow(
        "train", "classifier", "--data", str(MNIST), "--out", str(run), "--resume", "--device", "cpu"
    )
    assert "test accuracy" in proc.stdout and (run / "model.onnx").is_file()
    again = ganflow("train", "classifier", "--data", str(MNIST), "--out", str(run), check=False)
    assert again.returncode == 2 and "already holds a run" in again.stderr
