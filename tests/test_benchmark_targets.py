"""benchmarks/sampling.py's target table: which rows a target covers and by how much one is missed."""

from __future__ import annotations

from tests.conftest import load_script


def _sampling():
    return load_script("benchmarks/sampling.py")


def _row(device, method, batch, **sps):
    return {"device": device, "method": method, "batch": batch,
            **{k.replace("_", "-"): {"samples_per_s": v} for k, v in sps.items()}}  # fmt: skip


def test_targets_and_misses():
    s = _sampling()
    rows = [
        _row("cuda", "plain", 64, torch_cuda=100.0, ort_cuda=120.0, ort_cuda_graph=160.0),  # best ORT counts
        _row("cuda", "dgflow", 1, torch_cuda=100.0, ort_cuda=140.0),
        _row("cuda", "dgflow", 16384, torch_compile=100.0, ort_cuda=95.0, ort_cuda_fp16=300.0),  # fp16 not
        _row("cuda", "latent-rs", 64, torch_cuda=100.0, ort_cuda=10.0),  # no target for latent-rs on CUDA
        _row("cpu", "flow", 1, torch_cpu=10.0, ort_cpu=9.0),
    ]
    table = s.summary(rows).splitlines()
    assert len(table) == 2 + 4
    assert "| cuda | plain | 64 | best ort-cuda fp32 / torch-cuda eager | 1.60x | >= 1.5x | met |" in table
    assert table[3].endswith("| 1.40x | >= 1.5x | missed by 7% |")
    assert table[4].endswith("| 0.95x | >= 1x | missed by 5% |")
    assert table[5].endswith("| 0.90x | >= 1x | missed by 10% |")
