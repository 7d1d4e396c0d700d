"""`ganflow compare` / sampler.compare on the tiny bundle: every method x seed, spreads, atomic output."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ganflow.sampler.compare import compare
from ganflow.sampler.errors import InputError, NumericsError
from ganflow.sampler.images import decode_png
from ganflow.sampler.runtime import RuntimeOptions
from tests.conftest import ganflow

CHEAP = {"mh_k": 5, "ddls_steps": 3, "dg_steps": 3, "drs_burn_in": 500}
CPU = RuntimeOptions("cpu", threads=1)


def test_compare_writes_every_method_and_seed(tiny_bundle, tmp_path):
    out = tmp_path / "report"
    r = compare(tiny_bundle, None, 200, seeds=(0, 1), out=out, options=CHEAP, runtime=CPU, real_n=2000)
    methods = list(r["methods"])
    assert methods[0] == "plain" and set(methods) == {"plain", "ddls", "dgflow", "drs", "mh-gan"}
    assert sorted((x["method"], x["seed"]) for x in r["runs"]) == sorted(
        (m, s) for m in methods for s in (0, 1)
    )
    saved = json.loads((out / "report.json").read_text())
    assert saved["runs"] == json.loads(json.dumps(r["runs"]))
    value = {
        (x["method"], x["seed"], k): v for x in r["runs"] for k, v in [*x["metrics"].items(), *x.items()]
    }
    for m in methods:
        for key, s in r["summary"][m].items():
            values = [value[m, seed, key] for seed in (0, 1)]
            assert s["n"] == 2 and _spread_of(values) == (s["mean"], s["std"])
        for key, s in r["paired_vs_plain"].get(m, {}).items():
            pairs = [(value[m, i, key], value["plain", i, key]) for i in (0, 1)]
            diffs = [None if None in p else p[0] - p[1] for p in pairs]
            assert _spread_of(diffs) == (s["mean"], s["std"])
        assert decode_png((out / f"samples_{m}.png").read_bytes()).ndim == 3
    assert set(r["paired_vs_plain"]) == set(methods) - {"plain"}
    cost = {m: r["summary"][m]["proposals_per_sample"]["mean"] for m in methods}
    assert cost["mh-gan"] == 5 and cost["drs"] > 1 and cost["plain"] == 1
    assert decode_png((out / "precision_recall.png").read_bytes()).shape == (400, 400, 3)
    md = (out / "report.md").read_text()
    assert "ddof=1" in md and "| drs |" in md and "n = 2 sampling seeds" in md and "paired by seed" in md
    with pytest.raises(InputError, match="already exists"):
        compare(tiny_bundle, None, 200, ["plain"], (0,), out, runtime=CPU)


def _spread_of(values: list) -> tuple:
    """(mean, sample std ddof=1), None where undefined, rounded for comparison."""
    if None in values:
        return None, None
    return pytest.approx(float(np.mean(values))), pytest.approx(float(np.std(values, ddof=1)))


def test_nothing_is_left_after_an_error(tiny_bundle, tmp_path):
    out = tmp_path / "report"
    bad = {"drs_max_rounds": 1, "drs_gamma": 40.0, "drs_burn_in": 100}  # almost nothing is accepted
    with pytest.raises(NumericsError, match="not accepted after 1 rounds"):
        compare(tiny_bundle, None, 100, ["plain", "drs"], (0, 1), out, options=bad, runtime=CPU, real_n=1000)
    assert list(tmp_path.iterdir()) == []  # no report, no temporary folder


def test_compare_command(tiny_bundle, tmp_path):
    out = tmp_path / "r"
    args = [
        "-n",
        "100",
        "--seeds",
        "2",
        "--methods",
        "plain,drs",
        "--set",
        "drs_burn_in=300",
        "--device",
        "cpu",
    ]
    proc = ganflow("compare", str(tiny_bundle), *args, "--real-n", "1000", "--out", str(out))
    assert "drs seed 1:" in proc.stdout and f"wrote {out}/report.md" in proc.stdout
    assert json.loads((out / "report.json").read_text())["options"] == {"drs_burn_in": 300}
    bad = ganflow("compare", str(tiny_bundle), "--set", "drs_burn_in", check=False)
    assert bad.returncode == 2 and "KEY=VALUE" in bad.stderr and bad.stderr.count("\n") == 1
