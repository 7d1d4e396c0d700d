"""The sampling runs whose outputs are pinned in tests/data/golden-samples.npz (see test_golden)."""

from __future__ import annotations

COMMON = ("-n", "200", "--seed", "7", "--batch-size", "64", "--device", "cpu")
CASES: dict[str, tuple[str, ...]] = {
    "plain": ("--method", "plain"),
    "truncated": ("--method", "plain", "--truncation", "0.7"),
    "flow": ("--method", "flow"),
    "latent-rs": ("--method", "latent-rs"),
    "dgflow": ("--method", "dgflow", "--dg-steps", "5"),
    "flow+rs+dgflow": (
        "--proposal",
        "flow",
        "--select",
        "latent-rs",
        "--refine",
        "dgflow",
        "--dg-steps",
        "3",
    ),
    "shard1of3": ("--method", "latent-rs", "--num-shards", "3", "--shard-index", "1"),
}
