"""benchmarks/zoo/curves.py: FIS-GAN vs GAN in-training FID, paired by step and by training seed,
with the sample std (ddof=1) over the seeds."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import load_script


def _curves():
    return load_script("benchmarks/zoo/curves.py")


def _log(path: Path, fids: dict[int, float]) -> Path:
    recs = [{"kind": "train", "step": 50, "loss_d": 1.0}]
    recs += [{"kind": "eval", "step": s, "fid2k_mnist-train": v} for s, v in fids.items()]
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    return path


def _run(mod, monkeypatch, tmp_path, gans, fiss) -> dict:
    out = tmp_path / "curves.json"
    argv = ["curves.py", "--gan", *map(str, gans), "--fisgan", *map(str, fiss), "--out", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    mod.main()
    assert out.with_suffix(".md").is_file() and out.with_suffix(".png").stat().st_size > 0
    return json.loads(out.read_text())


def test_difference_is_paired_by_seed_over_shared_steps(monkeypatch, tmp_path):
    mod = _curves()
    gans = [
        _log(tmp_path / "g0", {1000: 300.0, 2000: 200.0, 3000: 150.0}),
        _log(tmp_path / "g1", {1000: 500.0, 2000: 100.0}),
    ]
    fiss = [
        _log(tmp_path / "f0", {1000: 290.0, 2000: 230.0}),
        _log(tmp_path / "f1", {1000: 470.0, 2000: 110.0}),
    ]
    r = _run(mod, monkeypatch, tmp_path, gans, fiss)
    assert r["steps"] == [1000, 2000] and r["n_seeds"] == 2
    d1000, d2000 = (s["fisgan_minus_gan"] for s in r["per_step"])
    # step 1000: differences -10 and -30 (mean -20, std sqrt(200)); the arms' spread is much larger
    assert d1000["mean"] == pytest.approx(-20.0) and d1000["std_ddof1"] == pytest.approx(200**0.5)
    assert d1000["n"] == 2 and r["per_step"][0]["gan"]["std_ddof1"] == pytest.approx(200 / 2**0.5)
    assert d2000["mean"] == pytest.approx(20.0) and d2000["std_ddof1"] == pytest.approx(200**0.5)
    assert r["fisgan_lower_at"] == 1 and r["fisgan_lower_per_seed"] == [1, 1]
    md = (tmp_path / "curves.md").read_text()
    assert "| 1000 | 400.0 ± 141.4 | 380.0 ± 127.3 | -20.0 ± 14.1 |" in md


def test_one_seed_has_no_spread(monkeypatch, tmp_path):
    mod = _curves()
    r = _run(
        mod,
        monkeypatch,
        tmp_path,
        [_log(tmp_path / "g", {1000: 300.0})],
        [_log(tmp_path / "f", {1000: 310.0})],
    )
    assert r["per_step"][0]["fisgan_minus_gan"] == {"mean": 10.0, "std_ddof1": None, "n": 1, "t": None}


def test_unpaired_logs_are_refused(monkeypatch, tmp_path):
    mod = _curves()
    g = _log(tmp_path / "g", {1000: 300.0})
    monkeypatch.setattr(sys, "argv", ["curves.py", "--gan", str(g), str(g), "--fisgan", str(g)])
    with pytest.raises(SystemExit, match="one of each per seed"):
        mod.main()
    f = _log(tmp_path / "f", {2000: 300.0})
    monkeypatch.setattr(sys, "argv", ["curves.py", "--gan", str(g), "--fisgan", str(f)])
    with pytest.raises(SystemExit, match="share no evaluation step"):
        mod.main()
