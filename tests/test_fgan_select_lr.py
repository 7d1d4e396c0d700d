"""benchmarks/fgan_select_lr.py: a learning rate per f-GAN loss chosen on the validation score
(fewest failures, then lowest mean training-split FID), never on the test metrics it reports."""

from __future__ import annotations

import json
import sys

import pytest

from tests.conftest import ROOT, load_script

SETTING = {"arch": "dcgan", "width": 64, "steps": 1000, "ema": None, "samples": 10000,
           "split": "mnist-test", "seeds": [0, 1]}  # fmt: skip


def _ok(val: float, fid: float) -> dict:
    m = {
        "fid10k_mnist-test": fid,
        "is10k": 4.0,
        "precision10k_k3_mnist-test": 0.5,
        "recall10k_k3_mnist-test": 0.2,
    }
    return {"metrics": m, "val": {"fid2k_mnist-train": val}}


FAIL = {"error": "error: training diverged: the critic's loss is inf at step 71"}


def _write(path, lr, runs, **setting) -> str:
    path.write_text(
        json.dumps({"setting": {**SETTING, "lr": lr, "lr_g": lr, "lr_d": lr, **setting}, "runs": runs})
    )
    return str(path)


def _main(monkeypatch, *argv):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    monkeypatch.setattr(sys, "argv", ["fgan_select_lr.py", *argv])
    load_script("benchmarks/fgan_select_lr.py").main()


def test_chooses_on_validation_and_reports_the_chosen_runs_test_metrics(monkeypatch, tmp_path):
    hi = _write(tmp_path / "hi.json", 2e-4, {
        # f:gan: best validation at the high rate although its test FID is worse there
        "f:gan": {"0": _ok(100, 500), "1": _ok(110, 520)},
        # f:kl: one divergence at the high rate loses to no failure at the low rate
        "f:kl": {"0": FAIL, "1": _ok(50, 50)},
    })  # fmt: skip
    lo = _write(tmp_path / "lo.json", 5e-5, {
        "f:gan": {"0": _ok(150, 400), "1": _ok(160, 410)},
        "f:rkl": {"0": _ok(1, 1)},  # seed 1 never ran: not a candidate
    })  # fmt: skip
    lo_kl = _write(tmp_path / "lo_kl.json", 5e-5, {"f:kl": {"0": _ok(300, 700), "1": _ok(310, 800)}})
    out = tmp_path / "sel.json"
    _main(monkeypatch, hi, lo, lo_kl, "--out", str(out))
    r = json.loads(out.read_text())["losses"]
    assert set(r) == {"f:gan", "f:kl"}
    assert r["f:gan"]["chosen_lr"] == 2e-4 and r["f:kl"]["chosen_lr"] == 5e-5
    assert r["f:kl"]["validation"]["0.0002"] == {"failed": 1, "fid2k_mnist-train_mean": 50.0}
    assert r["f:gan"]["fid10k_mnist-test"]["mean"] == pytest.approx(510.0)
    d = r["f:kl"]["fid10k_mnist-test_minus_f:gan"]  # (700 - 500, 800 - 520), paired by seed
    assert d["mean"] == pytest.approx(240.0) and d["std_ddof1"] == pytest.approx(80 / 2**0.5) and d["n"] == 2
    assert r["f:gan"]["fid10k_mnist-test_minus_f:gan"] is None
    md = out.with_suffix(".md").read_text()
    assert "| f:kl | 305.0 (0) | 50.0 (1) | 5e-05 | 750.0 ± 70.7 (2) | +240.0 ± 56.6 (2) |" in md


def test_all_rates_failing_still_picks_the_fewest_failures(monkeypatch, tmp_path):
    a = _write(
        tmp_path / "a.json", 2e-4, {"f:gan": {"0": _ok(1, 1), "1": _ok(1, 1)}, "f:kl": {"0": FAIL, "1": FAIL}}
    )
    b = _write(tmp_path / "b.json", 1e-4, {"f:kl": {"0": FAIL, "1": _ok(9, 900)}})
    out = tmp_path / "sel.json"
    _main(monkeypatch, a, b, "--out", str(out))
    kl = json.loads(out.read_text())["losses"]["f:kl"]
    assert kl["chosen_lr"] == 1e-4 and kl["seeds_ok"] == [1] and kl["seeds_failed"] == [0]
    assert kl["validation"]["0.0002"] == {"failed": 2, "fid2k_mnist-train_mean": None}  # strict JSON
    assert "| f:kl | 9.0 (1) | - (2) | 0.0001 |" in out.with_suffix(".md").read_text()
    assert kl["fid10k_mnist-test_minus_f:gan"]["n"] == 1


def test_refuses_inputs_that_do_not_compare(monkeypatch, tmp_path):
    out = str(tmp_path / "o.json")
    a = _write(tmp_path / "a.json", 2e-4, {"f:gan": {"0": _ok(1, 1), "1": _ok(1, 1)}})
    no_val = tmp_path / "nv.json"
    runs = {"f:gan": {"0": {"metrics": {}}, "1": _ok(1, 1)}}
    with pytest.raises(SystemExit, match="no validation score for f:gan seed 0"):
        _main(monkeypatch, a, _write(no_val, 1e-4, runs), "--out", out)
    with pytest.raises(SystemExit, match=r"differs .* in \['steps'\]"):
        _main(monkeypatch, a, _write(tmp_path / "s.json", 1e-4, {}, steps=2000), "--out", out)
    with pytest.raises(SystemExit, match="two inputs hold f:gan at learning rate 0.0002"):
        _main(monkeypatch, a, a, "--out", out)
    with pytest.raises(SystemExit, match="--reference f:js did not run"):
        _main(monkeypatch, a, "--reference", "f:js", "--out", out)
    assert not (tmp_path / "o.json").exists()
