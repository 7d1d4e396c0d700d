"""benchmarks/zoo/pair_runs.py: two arms' evaluate.py results paired by training seed, each seed
one unit (its mean over sampling seeds), with the sample std (ddof=1) over the training seeds."""

from __future__ import annotations

import json
import sys

import pytest

from tests.conftest import load_script


def _rows(run: str, method: str, train_seed: int, fids: list[float]) -> list[dict]:
    return [
        {"run": run, "method": method, "seed": s, "train": {"seed": train_seed},
         "metrics": {"fid10k_mnist-test": v, "is10k": 6.0}}
        for s, v in enumerate(fids)
    ]  # fmt: skip


def _write(path, rows) -> str:
    path.write_text(json.dumps({"rows": rows}))
    return str(path)


def _main(monkeypatch, *argv):
    monkeypatch.setattr(sys, "argv", ["pair_runs.py", *argv])
    load_script("benchmarks/zoo/pair_runs.py").main()


def test_pairs_by_training_seed_with_each_seed_one_unit(monkeypatch, tmp_path):
    # GAN seeds 0, 1, 2; FIS-GAN seeds 1, 0 (order differs; seed 2 missing); FIS-GAN plain rows ignored
    gan = _rows("g0", "plain", 0, [120, 124]) + _rows("g1", "plain", 1, [130]) + _rows("g2", "plain", 2, [1])
    fis = (
        _rows("f1", "flow", 1, [120, 122, 124])
        + _rows("f0", "flow", 0, [150])
        + _rows("f0", "plain", 0, [999])
    )
    out = tmp_path / "pair.json"
    _main(monkeypatch, "--a", _write(tmp_path / "a.json", gan), "--b", _write(tmp_path / "b.json", fis),
          "--labels", "GAN", "FIS-GAN", "--out", str(out))  # fmt: skip
    r = json.loads(out.read_text())
    assert r["training_seeds"] == [0, 1]
    seed0 = r["per_seed"]["0"]
    assert seed0["GAN"] == pytest.approx({"fid10k_mnist-test": 122.0, "is10k": 6.0})
    assert seed0["FIS-GAN"] == pytest.approx({"fid10k_mnist-test": 150.0, "is10k": 6.0})
    d = r["difference"]["fid10k_mnist-test"]  # +28 and -8
    assert d["mean"] == pytest.approx(10.0) and d["std_ddof1"] == pytest.approx(36 / 2**0.5) and d["n"] == 2
    assert (
        "| fid10k_mnist-test | 122 / 130 | 150 / 122 | +10 ± 25.5 (n = 2, ddof=1) |"
        in out.with_suffix(".md").read_text()
    )
    gan_arm = r["arms"]["GAN"]["fid10k_mnist-test"]  # 122 and 130 over the paired seeds 0 and 1
    assert gan_arm["mean"] == pytest.approx(126.0) and gan_arm["std_ddof1"] == pytest.approx(8 / 2**0.5)
    assert r["arms"]["FIS-GAN"]["fid10k_mnist-test"]["mean"] == pytest.approx(136.0)
    assert "| fid10k_mnist-test | 126 ± 5.66 | 136 ± 19.8 |" in out.with_suffix(".md").read_text()


def test_refuses_ambiguous_or_unpaired_input(monkeypatch, tmp_path):
    two_runs = _write(tmp_path / "two.json", _rows("x", "plain", 0, [1]) + _rows("y", "plain", 0, [2]))
    one = _write(tmp_path / "one.json", _rows("z", "flow", 1, [1]))
    out = str(tmp_path / "o.json")
    with pytest.raises(SystemExit, match="2 runs with training seed 0"):
        _main(monkeypatch, "--a", two_runs, "--b", one, "--out", out)
    with pytest.raises(SystemExit, match="no rows of method 'flow'"):
        _main(monkeypatch, "--a", one, "--a-method", "flow", "--b", two_runs, "--out", out)
    ok = _write(tmp_path / "ok.json", _rows("x", "plain", 0, [1]))
    with pytest.raises(SystemExit, match="share no training seed"):
        _main(monkeypatch, "--a", ok, "--b", one, "--out", out)
