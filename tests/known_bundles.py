"""Hand-built bundles whose densities are known exactly (graphs written with onnx.helper).

The 1-D ratio bundle: generator x = z with z ~ N(0, 1), so p_G = N(0, 1); data p_data = N(MU, SIGMA^2);
critic logit d(x) = log p_data(x) / p_G(x) exactly (a quadratic); its DDLS step is the exact
Langevin step on E(z) = z^2/2 - d(z) = (z - MU)^2 / (2 SIGMA^2) + const, whose law is p_data.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ganflow.sampler.bundle import sha256_file
from ganflow.sampler.data import DATASETS, Dataset, DataSpec

MU, SIGMA = 0.5, 0.6
C2, C1, C0 = (
    0.5 - 0.5 / SIGMA**2,
    MU / SIGMA**2,
    -(MU**2) / (2 * SIGMA**2) - math.log(SIGMA),
)  # d = C2 x^2 + C1 x + C0
DATA = "known-1d"  # the registered name of p_data's samples (register_known_data)


def save_graph(graph: onnx.GraphProto, path: Path) -> None:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 10
    onnx.checker.check_model(model, full_check=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, path)


def io(name: str, shape: list) -> list[dict]:
    """A manifest input/output entry."""
    return [{"name": name, "shape": shape, "dtype": "float32"}]


def _value(name: str, shape: list) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _const(name: str, v: float) -> onnx.TensorProto:
    return numpy_helper.from_array(np.array(v, np.float32), name)


def _graphs(corrector: bool) -> dict[str, tuple[onnx.GraphProto, list, list]]:
    """component -> (graph, manifest inputs, manifest outputs)."""
    x, logit = _value("x", ["batch", 1]), _value("logit", ["batch", 1])
    quad = [helper.make_node("Mul", ["x", "x"], ["xx"]), helper.make_node("Mul", ["xx", "c2"], ["q"])]
    lin = [helper.make_node("Mul", ["x", "c1"], ["l1"]), helper.make_node("Add", ["l1", "c0"], ["l"])]
    if corrector:  # the critic holds the quadratic term, the corrector the rest: d = D + C
        critic = helper.make_graph([*quad, helper.make_node("Identity", ["q"], ["logit"])], "d", [x], [logit],
                                   [_const("c2", C2)])  # fmt: skip
        corr = helper.make_graph([*lin, helper.make_node("Identity", ["l"], ["logit"])], "c", [x], [logit],
                                 [_const("c1", C1), _const("c0", C0)])  # fmt: skip
    else:
        nodes = [*quad, *lin, helper.make_node("Add", ["q", "l"], ["logit"])]
        critic = helper.make_graph(
            nodes, "d", [x], [logit], [_const("c2", C2), _const("c1", C1), _const("c0", C0)]
        )
    z, noise, eta, gamma = (
        _value("z", ["batch", 1]),
        _value("noise", ["batch", 1]),
        _value("eta", []),
        _value("gamma", []),
    )
    step = [  # z + eta (-(z - MU) / SIGMA^2) + sqrt(2 eta gamma) noise
        helper.make_node("Sub", ["z", "mu"], ["dz"]), helper.make_node("Mul", ["dz", "k"], ["g"]),
        helper.make_node("Mul", ["g", "eta"], ["drift"]), helper.make_node("Add", ["z", "drift"], ["z1"]),
        helper.make_node("Mul", ["eta", "gamma"], ["eg"]), helper.make_node("Mul", ["eg", "two"], ["eg2"]),
        helper.make_node("Sqrt", ["eg2"], ["s"]), helper.make_node("Mul", ["noise", "s"], ["kick"]),
        helper.make_node("Add", ["z1", "kick"], ["z_next"]),
    ]  # fmt: skip
    ddls = helper.make_graph(step, "ddls", [z, noise, eta, gamma], [_value("z_next", ["batch", 1])],
                             [_const("mu", MU), _const("k", -1 / SIGMA**2), _const("two", 2.0)])  # fmt: skip
    gen = helper.make_graph(
        [helper.make_node("Identity", ["z"], ["x"])], "g", [z], [_value("x", ["batch", 1])]
    )
    one = ["batch", 1]
    out = {
        "generator": (gen, io("z", one), io("x", one)),
        "critic": (critic, io("x", one), io("logit", one)),
        "ddls": (
            ddls,
            [*io("z", one), *io("noise", one), *io("eta", []), *io("gamma", [])],
            io("z_next", one),
        ),
    }
    if corrector:
        out["corrector"] = (corr, io("x", one), io("logit", one))
    return out


def ratio_bundle(root: Path, loss: str = "bce", corrector: bool = False) -> Path:
    """The 1-D bundle above at `root`, its manifest saying the critic was trained with `loss`
    (and, with `corrector`, that a corrector was trained on top: critic + corrector = d)."""
    components = {}
    for name, (graph, ins, outs) in _graphs(corrector).items():
        save_graph(graph, root / name / "model.onnx")
        path = f"{name}/model.onnx"
        components[name] = {"path": path, "sha256": sha256_file(root / path), "inputs": ins, "outputs": outs,
                            "opset": 18}  # fmt: skip
    arch = {"generator": {"arch": "identity"}, "critic": {"arch": "quadratic"}}
    manifest = {
        "format_version": 1,
        "family": "gan",
        "latent_dim": 1,
        "data": {"dataset": DATA, "shape": [1], "range": None},
        "components": components,
        "provenance": {
            "train": {"loss": loss},
            "components": {**arch, **({"corrector": {}} if corrector else {})},
        },
    }
    (root / "config.json").write_text(json.dumps(manifest))
    return root


def register_known_data(monkeypatch) -> None:
    """Make DATA a dataset for this test: 20 000 draws of p_data per split."""

    def load(source, split, seed):
        rng = np.random.default_rng([seed, 0 if split == "train" else 1, 99])
        x = (MU + SIGMA * rng.standard_normal((20_000, 1))).astype(np.float32)
        return Dataset(DataSpec(DATA, (1,), None), x, source=DATA)

    monkeypatch.setitem(DATASETS._items, DATA, load)


def ks_normal(x: np.ndarray, mean: float, std: float) -> float:
    """Kolmogorov-Smirnov distance between the sample x [N] and N(mean, std^2)."""
    x = np.sort(np.asarray(x, dtype=np.float64))
    cdf = np.array([0.5 * (1 + math.erf((v - mean) / (std * math.sqrt(2)))) for v in x])
    n = len(x)
    return float(max((np.arange(1, n + 1) / n - cdf).max(), (cdf - np.arange(n) / n).max()))


def ks_critical(n: int) -> float:
    """The KS critical value at alpha = 0.001 for a sample of n."""
    return 1.95 / math.sqrt(n)
