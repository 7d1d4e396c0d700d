"""metrics.jsonl: strict JSON lines, truncation on resume, and reading values back by record kind."""

import json

from ganflow.training.jsonl import JsonlLog, logged_values


def test_values_by_kind_last_record_wins_and_truncation_on_resume(tmp_path):
    path = tmp_path / "metrics.jsonl"
    log = JsonlLog(path)
    log.write({"kind": "train", "step": 50, "time_s": 1.5, "loss_d": float("nan")})
    log.write({"kind": "train", "step": 100, "time_s": 3.0})
    log.write({"kind": "eval", "step": 100, "fid2k_mnist-train": 400.0})
    log.write({"kind": "eval", "step": 100, "fid2k_mnist-train": 390.0})  # a re-evaluation wins
    assert json.loads(path.read_text().splitlines()[0])["loss_d"] is None  # NaN written as null
    assert logged_values(path, "time_s", kind="train") == {50: 1.5, 100: 3.0}
    assert logged_values(path, "fid2k_mnist-train") == {100: 390.0}
    assert logged_values(path, "time_s") == {}  # eval records carry no time_s
    JsonlLog(path, resume_step=50)  # resuming from step 50 drops what was logged after it
    assert logged_values(path, "time_s", kind="train") == {50: 1.5}
    assert logged_values(path, "fid2k_mnist-train") == {}
