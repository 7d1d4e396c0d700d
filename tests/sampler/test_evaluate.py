"""The metric registry, the Evaluator and `ganflow eval`, on 2-D data (fast, no classifier needed)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ganflow.sampler.data import load_dataset
from ganflow.sampler.errors import InputError, NumericsError
from ganflow.sampler.evaluate import evaluate, make_evaluator
from ganflow.sampler.metrics import METRICS, FeatureNet, count_tag
from ganflow.sampler.runtime import RuntimeOptions
from ganflow.sampler.sample import SampleOptions
from tests.conftest import ganflow


def test_registry_and_names():
    assert {"fid", "is", "mode", "prdc", "modes", "parzen"} <= set(METRICS.names())
    assert count_tag(10_000) == "10k" and count_tag(2500) == "2500"


@pytest.fixture(scope="module")
def g25():
    return make_evaluator("gaussians25", real_n=5000, with_valid=True)


def test_data_against_itself(g25):
    # another draw of the data (the train split) scores like data
    x = load_dataset("gaussians25", split="train").x[:5000]
    r = g25(x, ["fid", "prdc", "modes"])
    assert r["fid5k_gaussians25-test"] < 5e-3
    assert r["hq_rate5k"] > 0.99 and r["modes_covered5k"] == 25 and r["kl_modes5k"] < 0.01
    for k in ("precision", "recall", "coverage"):
        assert r[f"{k}5k_k{3 if k != 'coverage' else 5}_gaussians25-test"] > 0.9
    assert 0.8 < r["density5k_k5_gaussians25-test"] < 1.2


def test_collapsed_samples_score_badly(g25):
    x = np.zeros((2000, 2), np.float32)  # every sample on the centre mode
    r = g25(x, ["fid", "prdc", "modes"])
    assert r["modes_covered2k"] == 1 and r["hq_rate2k"] == 1.0
    assert r["fid2k_gaussians25-test"] > 1.0
    assert r["recall2k_k3_gaussians25-test"] < 0.1 and r["coverage2k_k5_gaussians25-test"] < 0.1


def test_parzen_prefers_data(g25):
    data = load_dataset("gaussians25", split="train").x[:2000]
    noise = np.random.default_rng(0).uniform(-2, 2, (2000, 2)).astype(np.float32)
    good = g25(data, ["parzen"])["parzen_ll2k_gaussians25-test"]
    bad = g25(noise, ["parzen"])["parzen_ll2k_gaussians25-test"]
    assert good > bad + 1.0


def test_bad_inputs(g25):
    with pytest.raises(InputError, match="does not apply"):
        g25(np.zeros((100, 2), np.float32), ["is"])
    with pytest.raises(InputError, match="unknown metric"):
        g25(np.zeros((100, 2), np.float32), ["fidd"])
    with pytest.raises(InputError, match="shape"):
        g25(np.zeros((100, 3), np.float32), ["fid"])
    x = np.zeros((100, 2), np.float32)
    x[3] = np.nan
    with pytest.raises(NumericsError):
        g25(x, ["fid"])


def test_custom_feature_network(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.array([[2.0, 0.0], [0.0, 2.0]], np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["features"])],
        "double",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 2])],
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 2])],
        [w],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 10
    onnx.save(model, tmp_path / "double.onnx")
    ev = make_evaluator("gaussians25", features=tmp_path / "double.onnx", real_n=2000)
    plain = make_evaluator("gaussians25", real_n=2000)
    x = np.zeros((1000, 2), np.float32)
    a, b = ev(x, ["fid"]), plain(x, ["fid"])
    assert list(a) == ["fid1k_gaussians25-test-double"]
    assert a["fid1k_gaussians25-test-double"] == pytest.approx(4 * b["fid1k_gaussians25-test"], rel=1e-6)
    with pytest.raises(InputError, match="no output named 'features'"):
        bad = tmp_path / "bad.onnx"
        model.graph.output[0].name = "y"
        model.graph.node[0].output[0] = "y"
        onnx.save(model, bad)
        FeatureNet(bad)


def test_eval_bundle_and_file(tiny_bundle, tmp_path):
    cpu = SampleOptions(runtime=RuntimeOptions("cpu"))
    r = evaluate(tiny_bundle, None, n=2000, metrics=["fid", "modes"], sampling=cpu, real_n=2000)
    assert r["kind"] == "bundle" and r["data"] == "gaussians25" and r["method"] == "gaussian -> decode"
    assert set(r["metrics"]) == {"fid2k_gaussians25-test", "hq_rate2k", "modes_covered2k", "kl_modes2k"}
    np.savez(tmp_path / "s.npz", samples=load_dataset("gaussians25", split="train").x[:3000])
    out = tmp_path / "r.json"
    proc = ganflow("eval", str(tmp_path / "s.npz"), "--data", "gaussians25", "--out", str(out))
    assert "fid3k_gaussians25-test" in proc.stdout
    doc = json.loads(out.read_text())
    assert doc["n"] == 3000 and doc["metrics"]["modes_covered3k"] == 25
    bad = ganflow("eval", str(tmp_path / "s.npz"), check=False)
    assert bad.returncode == 2 and "pass --data" in bad.stderr


def test_training_logs_metrics(tiny_run):
    records = [json.loads(line) for line in (tiny_run / "metrics.jsonl").read_text().splitlines()]
    ev = [r for r in records if r["kind"] == "eval"][-1]
    assert "fid256_gaussians25-test" in ev and "hq_rate256" in ev
