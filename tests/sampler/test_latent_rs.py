"""LatentRS in the sampler on a hand-built bundle whose weight function is known exactly."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ganflow.sampler.bundle import sha256_file
from ganflow.sampler.errors import NumericsError
from ganflow.sampler.runtime import RuntimeOptions
from ganflow.sampler.sample import SampleOptions, sample_to
from ganflow.sampler.stages import options_from_flat

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def _save(graph, path):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 10
    onnx.checker.check_model(model, full_check=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, path)


@pytest.fixture(scope="module")
def known_bundle(tmp_path_factory):
    """generator: x = z (d = 2); weight: w(z) = 1.5 exp(-z0^2 / 2), so with m = 1.5 the accepted
    z0 follow N(0, 1) exp(-z0^2 / 2) / Z = N(0, 1/2), and z1 stays N(0, 1)."""
    root = tmp_path_factory.mktemp("known")
    f = TensorProto.FLOAT
    z = helper.make_tensor_value_info("z", f, ["batch", 2])
    _save(
        helper.make_graph(
            [helper.make_node("Identity", ["z"], ["x"])],
            "g",
            [z],
            [helper.make_tensor_value_info("x", f, ["batch", 2])],
        ),
        root / "generator/model.onnx",
    )
    consts = [
        numpy_helper.from_array(np.array([[1.0], [0.0]], np.float32), "pick"),
        numpy_helper.from_array(np.array(-0.5, np.float32), "half"),
        numpy_helper.from_array(np.array(1.5, np.float32), "scale"),
        numpy_helper.from_array(np.array([-1], np.int64), "flat"),
    ]
    nodes = [
        helper.make_node("MatMul", ["z", "pick"], ["z0"]),
        helper.make_node("Mul", ["z0", "z0"], ["sq"]),
        helper.make_node("Mul", ["sq", "half"], ["e"]),
        helper.make_node("Exp", ["e"], ["ex"]),
        helper.make_node("Mul", ["ex", "scale"], ["w2"]),
        helper.make_node("Reshape", ["w2", "flat"], ["w"]),
    ]
    _save(
        helper.make_graph(nodes, "w", [z], [helper.make_tensor_value_info("w", f, ["batch"])], consts),
        root / "weight/model.onnx",
    )
    io = lambda name, shape: [{"name": name, "shape": shape, "dtype": "float32"}]  # noqa: E731
    manifest = {
        "format_version": 1,
        "family": "gan",
        "latent_dim": 2,
        "data": {"dataset": "known", "shape": [2], "range": None},
        "components": {
            "generator": {
                "path": "generator/model.onnx",
                "sha256": sha256_file(root / "generator/model.onnx"),
                "inputs": io("z", ["batch", 2]),
                "outputs": io("x", ["batch", 2]),
                "opset": 18,
            },
            "weight": {
                "path": "weight/model.onnx",
                "sha256": sha256_file(root / "weight/model.onnx"),
                "inputs": io("z", ["batch", 2]),
                "outputs": io("w", ["batch"]),
                "opset": 18,
            },
        },
        "defaults": {"latent-rs": {"m": 1.5}},
    }
    (root / "config.json").write_text(json.dumps(manifest))
    return root


def _ks_normal(x: np.ndarray, std: float) -> float:
    """Kolmogorov-Smirnov distance between the sample x and N(0, std^2)."""
    x = np.sort(x)
    cdf = np.array([0.5 * (1 + math.erf(v / (std * math.sqrt(2)))) for v in x])
    n = len(x)
    return float(max((np.arange(1, n + 1) / n - cdf).max(), (cdf - np.arange(n) / n).max()))


def test_accepted_samples_follow_the_reweighted_density(known_bundle, tmp_path):
    n = 20_000
    report = sample_to(
        known_bundle,
        tmp_path / "s.npz",
        n,
        SampleOptions(method="latent-rs", seed=1, runtime=RuntimeOptions(device="cpu")),
    )
    x = np.load(tmp_path / "s.npz")["samples"]
    crit = 1.95 / math.sqrt(n)  # KS critical value at alpha = 0.001
    assert _ks_normal(x[:, 0], math.sqrt(0.5)) < crit  # the reweighted law
    assert _ks_normal(x[:, 1], 1.0) < crit
    assert _ks_normal(x[:, 0], 1.0) > 3 * crit  # the test can tell the unweighted law apart
    # acceptance rate E[w]/m = E[exp(-z0^2/2)] = 1/sqrt(2)
    rate = report["accepted"] / report["proposals"]
    assert report["accepted"] == n and abs(rate - 1 / math.sqrt(2)) < 0.01


def test_latent_rs_is_deterministic_per_index(known_bundle, tmp_path):
    sample_to(
        known_bundle,
        tmp_path / "a.npz",
        3000,
        SampleOptions(method="latent-rs", seed=2, batch_size=100, runtime=RuntimeOptions(device="cpu")),
    )
    for i in range(2):
        sample_to(
            known_bundle,
            tmp_path / "b.npz",
            3000,
            SampleOptions(
                method="latent-rs",
                seed=2,
                batch_size=999,
                num_shards=2,
                shard_index=i,
                runtime=RuntimeOptions(device="cpu"),
            ),
        )
    a = np.load(tmp_path / "a.npz")["samples"]
    b = np.concatenate([np.load(tmp_path / f"b-0000{i}-of-00002.npz")["samples"] for i in range(2)])
    assert np.array_equal(a, b)


def test_too_low_acceptance_is_a_clear_error(known_bundle, tmp_path):
    with pytest.raises(NumericsError, match="not accepted after 2 rounds"):
        sample_to(
            known_bundle,
            tmp_path / "s.npz",
            5000,
            SampleOptions(
                method="latent-rs",
                stages=options_from_flat({"rs_m": 1e6, "rs_max_rounds": 2}),
                runtime=RuntimeOptions(device="cpu"),
            ),
        )
    assert not (tmp_path / "s.npz").exists()


def test_plain_bundle_refuses_latent_rs(tiny_bundle, tmp_path):
    from ganflow.sampler.errors import ComponentMissingError

    with pytest.raises(ComponentMissingError, match="no 'weight' component"):
        sample_to(
            tiny_bundle,
            tmp_path / "s.npz",
            10,
            SampleOptions(method="latent-rs", runtime=RuntimeOptions(device="cpu")),
        )
