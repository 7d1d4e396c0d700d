"""benchmarks/zoo/pool_seeds.py: post_hoc.py results of several training seeds pooled by role, each
base one unit (its mean over sampling seeds), with the sample std (ddof=1) over the bases."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from tests.conftest import load_script


def _pool():
    return load_script("benchmarks/zoo/pool_seeds.py")


def _doc(plain: list[float], dgflow: list[float], chosen_label: str, complete: bool = True) -> dict:
    rows = {
        "plain": [{"seed": s, "fid": v, "wall_s": 1.0} for s, v in enumerate(plain)],
        chosen_label: [{"seed": s, "fid": v, "wall_s": 9.0} for s, v in enumerate(dgflow)],
    }
    roles = {"plain": "plain", "dgflow-default": chosen_label, "dgflow-chosen": chosen_label}
    return {"rows": rows, "roles": roles, "complete": complete, "eta_selection": {"chosen": 0.1}}


def _run(mod, monkeypatch, tmp_path, docs) -> dict:
    files = []
    for i, d in enumerate(docs):
        files.append(tmp_path / f"s{i}.json")
        files[-1].write_text(json.dumps(d))
    out = tmp_path / "pooled.json"
    monkeypatch.setattr(sys, "argv", ["pool_seeds.py", *map(str, files), "--out", str(out)])
    mod.main()
    assert out.with_suffix(".md").is_file()
    return json.loads(out.read_text())


def test_each_base_is_one_unit_and_labels_may_differ(monkeypatch, tmp_path):
    mod = _pool()
    # base 0: differences -10, -20 (mean -15); base 1: -30, -30, -30 (mean -30); base 2: -6 (one seed)
    docs = [
        _doc([100, 110], [90, 90], "dgflow eta 0.1 (default; also chosen on train split)"),
        _doc([200, 210, 220], [170, 180, 190], "dgflow eta 0.03 (default; also chosen on train split)"),
        _doc([150], [144], "dgflow eta 0.1 (default; also chosen on train split)"),
    ]
    pooled = _run(mod, monkeypatch, tmp_path, docs)["pooled"]
    d = pooled["dgflow-chosen"]["fid"]["difference"]
    assert d["n"] == 3
    assert d["mean"] == pytest.approx(np.mean([-15, -30, -6]))
    assert d["std_ddof1"] == pytest.approx(np.std([-15, -30, -6], ddof=1))
    assert [b["plain"] for b in pooled["dgflow-chosen"]["fid"]["per_base"]] == [105, 210, 150]
    assert "wall_s" not in pooled["dgflow-default"]


def test_an_unfinished_file_is_refused(monkeypatch, tmp_path):
    mod = _pool()
    docs = [_doc([1], [2], "dgflow"), _doc([1], [2], "dgflow", complete=False)]
    with pytest.raises(SystemExit, match="s1.json is not a complete post_hoc.py result"):
        _run(mod, monkeypatch, tmp_path, docs)
