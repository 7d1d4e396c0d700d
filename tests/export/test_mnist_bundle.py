"""An MNIST DCGAN bundle (a second model family through the same manifest): export and sample."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ganflow.sampler.bundle import load_bundle
from ganflow.sampler.errors import InputError
from ganflow.sampler.images import decode_png
from ganflow.sampler.runtime import RuntimeOptions
from ganflow.sampler.sample import SampleOptions, sample_to


def test_manifest(mnist_bundle):
    m = json.loads((mnist_bundle / "config.json").read_text())
    assert m["data"] == {"dataset": "mnist", "shape": [1, 28, 28], "range": [-1.0, 1.0]}
    assert m["components"]["generator"]["outputs"][0]["shape"] == ["batch", 1, 28, 28]
    assert m["components"]["critic"]["inputs"][0]["shape"] == ["batch", 1, 28, 28]
    assert m["provenance"]["components"]["critic"]["spectral_norm"] is True
    card = (mnist_bundle / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: ganflow\n") and "ganflow sample" in card
    img = decode_png((mnist_bundle / "samples.png").read_bytes())
    assert img.shape == (8 * 30 + 2, 8 * 30 + 2)  # 64 samples, 28 px + 2 px padding


def test_sample_formats(mnist_bundle, tmp_path):
    sample_to(
        mnist_bundle,
        tmp_path / "s.npz",
        300,
        SampleOptions(batch_size=128, runtime=RuntimeOptions(device="cpu")),
    )
    x = np.load(tmp_path / "s.npz")["samples"]
    assert x.shape == (300, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    sample_to(mnist_bundle, tmp_path / "pngs", 20, SampleOptions(runtime=RuntimeOptions(device="cpu")))
    files = sorted(p.name for p in (tmp_path / "pngs").glob("*.png"))
    assert files == [f"{i:09d}.png" for i in range(20)]
    first = decode_png((tmp_path / "pngs" / files[0]).read_bytes())
    assert first.shape == (28, 28)
    expect = np.round((np.clip(x[0, 0], -1, 1) + 1) * 127.5).astype(np.uint8)
    assert np.abs(first.astype(int) - expect).max() <= 1
    sample_to(mnist_bundle, tmp_path / "g.png", 16, SampleOptions(runtime=RuntimeOptions(device="cpu")))
    assert decode_png((tmp_path / "g.png").read_bytes()).shape == (4 * 30 + 2, 4 * 30 + 2)


def test_shards_and_resume_fill_one_folder(mnist_bundle, tmp_path):
    one = tmp_path / "one"
    sample_to(
        mnist_bundle, one, 50, SampleOptions(batch_size=8, seed=4, runtime=RuntimeOptions(device="cpu"))
    )
    shared = tmp_path / "shared"
    for i in (2, 0, 1):  # three workers, in any order, one folder
        sample_to(
            mnist_bundle,
            shared,
            50,
            SampleOptions(
                batch_size=16, seed=4, num_shards=3, shard_index=i, runtime=RuntimeOptions(device="cpu")
            ),
        )
    names = sorted(p.name for p in one.glob("*.png"))
    assert names == sorted(p.name for p in shared.glob("*.png")) and len(names) == 50
    for name in names:
        assert (one / name).read_bytes() == (shared / name).read_bytes()
    # an interrupted run: a few images missing, resumed without redrawing the rest
    for name in names[10:30:3]:
        (shared / name).unlink()
    before = {n: (shared / n).stat().st_mtime_ns for n in names[:10]}
    report = sample_to(
        mnist_bundle, shared, 50, SampleOptions(batch_size=10, seed=4, runtime=RuntimeOptions(device="cpu"))
    )
    assert report["samples"] == 20  # only the two batches with missing images were drawn again
    assert all((shared / n).read_bytes() == (one / n).read_bytes() for n in names)
    assert all((shared / n).stat().st_mtime_ns == t for n, t in before.items())
    # another run's folder is not mixed into
    with pytest.raises(InputError, match="samples of another run"):
        sample_to(mnist_bundle, shared, 50, SampleOptions(seed=5, runtime=RuntimeOptions(device="cpu")))
    assert not list(tmp_path.rglob("*.tmp"))


def test_png_dir_refused_for_points(tiny_bundle, tmp_path):
    with pytest.raises(InputError, match="needs image data"):
        sample_to(tiny_bundle, tmp_path / "dir", 10, SampleOptions(runtime=RuntimeOptions(device="cpu")))
    assert list(tmp_path.iterdir()) == []


def test_bundle_of_another_model_loads(mnist_bundle, tiny_bundle):
    a, b = load_bundle(mnist_bundle), load_bundle(tiny_bundle)
    assert a.manifest.keys() == b.manifest.keys()
    assert a.data_shape != b.data_shape
