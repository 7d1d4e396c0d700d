"""Your own data, torch-free: array files and image folders as data sources (layout and range
inference, splits, content hashes, the lazy image cache), bad files refused in one line."""

from __future__ import annotations

import numpy as np
import pytest

from ganflow.sampler.data import DataOptions, load_dataset, other_split
from ganflow.sampler.data import lazy as lazy_mod
from ganflow.sampler.data.image_folder import CACHE
from ganflow.sampler.data.lazy import LazyArray
from ganflow.sampler.data.sources import SOURCES
from ganflow.sampler.errors import DataError, InputError
from ganflow.sampler.images import encode_png
from tests.conftest import MNIST

pytest.importorskip("PIL")


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANFLOW_CACHE", str(tmp_path / "cache"))


def ring(n: int = 800, std: float = 0.02, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(points [n, 2] of 8 Gaussians on a circle of radius 2, their centers [8, 2])."""
    rng = np.random.default_rng(seed)
    a = np.arange(8) * np.pi / 4
    centers = 2.0 * np.stack([np.cos(a), np.sin(a)], 1)
    x = centers[rng.integers(8, size=n)] + std * rng.standard_normal((n, 2))
    return x.astype(np.float32), centers


def png_folder(root, n: int = 64, size: tuple[int, int] = (8, 8), grey: bool = False, seed: int = 0):
    rng = np.random.default_rng(seed)
    (root / "sub").mkdir(parents=True, exist_ok=True)
    for i in range(n):
        shape = size if grey else (*size, 3)
        img = rng.integers(0, 256, shape, dtype=np.uint8)
        (root / ("sub" if i % 3 == 0 else "") / f"{i:03d}.png").write_bytes(encode_png(img))
    return root


def one_line(err: pytest.ExceptionInfo) -> str:
    msg = str(err.value)
    assert msg and "\n" not in msg
    return msg


def test_sources_are_asked_mnist_first():
    assert [s.name for s in SOURCES] == ["mnist", "array", "image-folder"]


# --- array files -------------------------------------------------------------------------------


def test_vectors_from_npy_keep_their_values_and_split(tmp_path):
    x, _ = ring()
    np.save(tmp_path / "ring.npy", x)
    train = load_dataset(str(tmp_path / "ring.npy"))
    test = load_dataset(str(tmp_path / "ring.npy"), split="test")
    assert train.spec.name == "ring" and train.spec.shape == (2,) and train.spec.range is None
    assert len(train.x) == 720 and len(test.x) == 80  # --test-fraction 0.1
    both = np.concatenate([train.x, test.x])
    assert sorted(map(tuple, both)) == sorted(map(tuple, x))  # disjoint, nothing lost, values kept
    src = train.spec.source
    assert (src.kind, src.layout, src.value_range, src.split) == ("array", "vector", "none", "holdout")
    assert (src.test_fraction, src.split_seed) == (0.1, 0)
    again = load_dataset(str(tmp_path / "ring.npy"), split="test")
    np.testing.assert_array_equal(again.x, test.x)  # the split is seeded
    other = load_dataset(str(tmp_path / "ring.npy"), split="test", options=DataOptions(test_fraction=0.25))
    assert len(other.x) == 200
    np.testing.assert_array_equal(other_split(other, "train").x[:5], load_dataset(
        str(tmp_path / "ring.npy"), options=DataOptions(test_fraction=0.25)).x[:5])  # fmt: skip


def test_content_hash_is_of_the_data(tmp_path):
    x, _ = ring()
    np.save(tmp_path / "a.npy", x)
    np.save(tmp_path / "b.npy", x)
    x2 = x.copy()
    x2[0, 0] += 1
    np.save(tmp_path / "c.npy", x2)
    sha = {k: load_dataset(str(tmp_path / f"{k}.npy")).spec.source.sha256 for k in "abc"}
    assert sha["a"] == sha["b"] != sha["c"]
    spec_a, spec_b = (load_dataset(str(tmp_path / f"{k}.npy"), dataset="r").spec for k in "ab")
    assert spec_a.same_data(spec_b.to_dict())  # same content, other path and name


@pytest.mark.parametrize(
    "layout,make",
    [
        ("nhwc", lambda a: a),  # [N, H, W, C]
        ("nchw", lambda a: a.transpose(0, 3, 1, 2)),  # [N, C, H, W]
    ],
)
def test_uint8_images_in_either_layout(tmp_path, layout, make):
    a = np.random.default_rng(1).integers(0, 256, (40, 8, 12, 3), dtype=np.uint8)
    np.save(tmp_path / "im.npy", make(a))
    ds = load_dataset(str(tmp_path / "im.npy"))
    assert ds.spec.shape == (3, 8, 12) and ds.spec.range == (-1.0, 1.0)
    assert ds.spec.source.layout == layout and ds.spec.source.value_range == "0,255"
    assert ds.x.dtype == np.float32 and ds.x.min() >= -1.0 and ds.x.max() <= 1.0
    rows = np.sort(np.random.default_rng(0).permutation(40)[4:])  # the seeded hold-out's train rows
    np.testing.assert_allclose(ds.x, a[rows].transpose(0, 3, 1, 2) / 127.5 - 1.0, atol=1e-6)


@pytest.mark.parametrize(
    "values,expected",
    [((0.0, 1.0), "0,1"), ((-1.0, 1.0), "-1,1"), ((0.0, 255.0), "0,255")],
)
def test_float_image_range_inferred(tmp_path, values, expected):
    lo, hi = values
    a = np.random.default_rng(2).uniform(lo, hi, (30, 4, 4)).astype(np.float32)
    a[0, 0, 0], a[0, 0, 1] = lo, hi
    np.save(tmp_path / "g.npy", a)
    ds = load_dataset(str(tmp_path / "g.npy"))
    assert ds.spec.shape == (1, 4, 4) and ds.spec.source.layout == "nhw"
    assert ds.spec.source.value_range == expected
    both = np.concatenate([ds.x, other_split(ds, "test").x])
    assert both.min() == -1.0 and both.max() == 1.0


def test_range_none_and_given_range(tmp_path):
    a = np.random.default_rng(3).normal(size=(30, 4, 4, 1)).astype(np.float32) * 5
    np.save(tmp_path / "z.npy", a)
    with pytest.raises(DataError, match="--range none") as err:
        load_dataset(str(tmp_path / "z.npy"))
    one_line(err)
    ds = load_dataset(str(tmp_path / "z.npy"), options=DataOptions(value_range="none"))
    assert ds.spec.range is None and ds.x.max() > 1.0
    with pytest.raises(DataError, match="outside --range 0,1"):
        load_dataset(str(tmp_path / "z.npy"), options=DataOptions(value_range="0,1"))
    x = ring()[0] / 3  # inside [-1, 1]
    np.save(tmp_path / "v.npy", x)
    v = load_dataset(str(tmp_path / "v.npy"), options=DataOptions(value_range="-1,1"))
    assert v.spec.range == (-1.0, 1.0) and v.spec.shape == (2,)
    assert set(map(tuple, v.x)) <= set(map(tuple, x))  # vectors keep their values


def test_npz_with_its_own_split(tmp_path):
    rng = np.random.default_rng(4)
    tr, te = rng.normal(size=(50, 3)).astype(np.float32), rng.normal(size=(7, 3)).astype(np.float32)
    for keys in (("train", "test"), ("x_train", "x_test")):
        path = tmp_path / f"{keys[0]}.npz"
        np.savez(path, **{keys[0]: tr, keys[1]: te})
        ds, test = load_dataset(str(path)), load_dataset(str(path), split="test")
        np.testing.assert_array_equal(ds.x, tr)
        np.testing.assert_array_equal(test.x, te)
        assert ds.spec.source.split == "file" and ds.spec.source.test_fraction is None
    np.savez(tmp_path / "one.npz", points=tr)
    assert len(load_dataset(str(tmp_path / "one.npz")).x) == 45  # one array: the hold-out split


def test_mnist_npz_keeps_the_mnist_path():
    if not MNIST.is_file():
        pytest.skip(f"{MNIST} is absent")
    ds = load_dataset(str(MNIST), split="test")
    assert ds.spec.name == "mnist" and ds.spec.source is None and ds.labels is not None
    assert ds.spec.to_dict() == {"dataset": "mnist", "shape": [1, 28, 28], "range": [-1.0, 1.0]}


def eager_and_lazy(tmp_path, monkeypatch, n: int, seed: int = 5):
    """(in memory, read lazily): the same [n, 4, 4, 3] uint8 images from an .npy, loaded twice."""
    a = np.random.default_rng(seed).integers(0, 256, (n, 4, 4, 3), dtype=np.uint8)
    np.save(tmp_path / "big.npy", a)
    eager = load_dataset(str(tmp_path / "big.npy"))
    monkeypatch.setattr(lazy_mod, "IN_MEMORY_MAX_BYTES", 0)  # every array is "large"
    lazy = load_dataset(str(tmp_path / "big.npy"))
    assert isinstance(lazy.x, LazyArray) and isinstance(eager.x, np.ndarray)
    return eager, lazy


def test_large_arrays_stay_lazy(tmp_path, monkeypatch):
    eager, lazy = eager_and_lazy(tmp_path, monkeypatch, 30)
    assert lazy.x.shape == eager.x.shape and len(lazy.x) == 27 and lazy.x.ndim == 4
    np.testing.assert_array_equal(np.asarray(lazy.x), eager.x)
    idx = np.array([5, 0, 5, 26, -1])
    np.testing.assert_array_equal(lazy.x[idx], eager.x[idx])  # any order, repeats, negatives
    np.testing.assert_array_equal(lazy.x[3], eager.x[3])
    np.testing.assert_array_equal(lazy.x[-4:], eager.x[-4:])
    np.testing.assert_array_equal(lazy.x.take(slice(2, 9))[[0, 6]], eager.x[[2, 8]])


# --- bad array files ---------------------------------------------------------------------------


def _save_raw(path, arr):
    np.save(path, arr, allow_pickle=True)


@pytest.mark.parametrize(
    "name,make,match",
    [
        ("ragged", lambda: np.array([np.zeros(2), np.zeros(3)], dtype=object), "Python objects"),
        ("nan", lambda: np.array([[0.0, 1.0], [np.nan, 2.0], [1.0, 1.0]]), "NaN or inf"),
        ("strings", lambda: np.array([["a", "b"], ["c", "d"]]), "not numbers"),
        ("complex", lambda: np.ones((5, 2), np.complex64), "not numbers"),
        ("single", lambda: np.zeros((32, 32, 3), np.uint8), "one H x W x C image"),
        ("one-example", lambda: np.zeros((1, 8, 8, 3), np.uint8), "at least 2"),
        ("ambiguous", lambda: np.zeros((10, 3, 32, 3), np.uint8), "--layout nhwc or --layout nchw"),
        ("no-channels", lambda: np.zeros((10, 5, 6, 7), np.uint8), "--layout"),
        ("flat", lambda: np.zeros(10, np.float32), r"has shape \[10\]"),
    ],
)
def test_bad_arrays_are_refused_in_one_line(tmp_path, name, make, match):
    path = tmp_path / f"{name}.npy"
    _save_raw(path, make())
    with pytest.raises(DataError, match=match) as err:
        load_dataset(str(path))
    assert str(path) in one_line(err) or path.name in one_line(err)


def test_bad_npz_and_not_an_array(tmp_path):
    np.savez(tmp_path / "many.npz", a=np.zeros((4, 2)), b=np.zeros((4, 2)))
    with pytest.raises(DataError, match="give it one array") as err:
        load_dataset(str(tmp_path / "many.npz"))
    one_line(err)
    (tmp_path / "junk.npy").write_bytes(b"not numpy at all")
    with pytest.raises(DataError, match="cannot read") as err:
        load_dataset(str(tmp_path / "junk.npy"))
    one_line(err)
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(DataError, match="neither") as err:
        load_dataset(str(tmp_path / "notes.txt"))
    one_line(err)
    np.save(tmp_path / "ok.npy", ring()[0])
    with pytest.raises(DataError, match="image folders"):
        load_dataset(str(tmp_path / "ok.npy"), options=DataOptions(image_size=8))
    with pytest.raises(DataError, match="--layout nhwc reads"):
        load_dataset(str(tmp_path / "ok.npy"), options=DataOptions(layout="nhwc"))


def test_bad_options():
    for kw, match in (
        ({"layout": "hwc"}, "unknown --layout"),
        ({"value_range": "0,2"}, "unknown --range"),
        ({"test_fraction": 1.0}, "--test-fraction"),
        ({"channels": 2}, "--channels"),
        ({"image_size": 0}, "--image-size"),
    ):
        with pytest.raises(InputError, match=match):
            DataOptions(**kw)
    saved = DataOptions("vector", "none", 0.1, 0)
    assert DataOptions(test_fraction=0.2).over(saved, False, "the bundle").test_fraction == 0.2
    with pytest.raises(InputError, match="differs from the run's 0.1"):
        DataOptions(test_fraction=0.2).over(saved, True, "the run")


# --- image folders -----------------------------------------------------------------------------


def test_rgb_folder_is_decoded_once_and_read_lazily(tmp_path):
    folder = png_folder(tmp_path / "imgs")
    ds = load_dataset(str(folder))
    assert isinstance(ds.x, LazyArray) and ds.spec.shape == (3, 8, 8) and ds.spec.range == (-1.0, 1.0)
    assert len(ds.x) + len(other_split(ds, "test").x) == 64
    src = ds.spec.source
    assert (src.kind, src.channels, src.image_size, src.layout) == ("image-folder", 3, (8, 8), "nhwc")
    cached = sorted((tmp_path / "cache" / CACHE).iterdir())
    assert [p.suffix for p in cached] == [".json", ".npy"]
    mtime = cached[1].stat().st_mtime_ns
    again = load_dataset(str(folder))  # the cache is reused
    assert cached[1].stat().st_mtime_ns == mtime and again.spec.source.sha256 == src.sha256
    # the examples are the PNGs' pixels, in sorted path order
    files = sorted(folder.rglob("*.png"), key=lambda p: p.relative_to(folder).as_posix())
    from ganflow.sampler.images import decode_png

    first = ds.x.index[0]
    want = decode_png(files[first].read_bytes()).transpose(2, 0, 1) / 127.5 - 1.0
    np.testing.assert_allclose(ds.x[0], want, atol=1e-6)
    x = ds.x[np.arange(10)]
    assert x.dtype == np.float32 and x.shape == (10, 3, 8, 8)


def test_grey_folder_channels_and_resize(tmp_path):
    folder = png_folder(tmp_path / "grey", n=6, size=(10, 14), grey=True)
    ds = load_dataset(str(folder))
    assert ds.spec.shape == (1, 10, 14) and ds.spec.source.channels == 1
    rgb = load_dataset(str(folder), options=DataOptions(channels=3, image_size=8))
    assert rgb.spec.shape == (3, 8, 8) and rgb.spec.source.image_size == (8, 8)
    assert rgb.spec.source.sha256 == ds.spec.source.sha256  # the hash is of the files


def test_mixed_sizes_need_image_size(tmp_path):
    folder = png_folder(tmp_path / "mixed", n=4, size=(8, 8))
    (folder / "zz.png").write_bytes(encode_png(np.zeros((12, 16, 3), np.uint8)))
    with pytest.raises(DataError, match="--image-size") as err:
        load_dataset(str(folder))
    one_line(err)
    ds = load_dataset(str(folder), options=DataOptions(image_size=6))
    assert ds.spec.shape == (3, 6, 6)


@pytest.mark.parametrize("case", ["empty", "one", "unreadable", "truncated", "layout"])
def test_bad_folders_are_refused_in_one_line(tmp_path, case):
    folder = tmp_path / "f"
    folder.mkdir()
    options = DataOptions()
    if case == "one":
        png_folder(folder, n=1)
    elif case in ("unreadable", "truncated"):
        png_folder(folder, n=5)
        good = (folder / "001.png").read_bytes()
        (folder / "002.png").write_bytes(b"garbage" if case == "unreadable" else good[: len(good) // 2])
    elif case == "layout":
        png_folder(folder, n=5)
        options = DataOptions(layout="nhwc")
    match = {"empty": "no PNG or JPEG", "one": "at least 2", "unreadable": "002.png"}
    match |= {"truncated": "002.png", "layout": "array files"}
    with pytest.raises(DataError, match=match[case]) as err:
        load_dataset(str(folder), options=options)
    one_line(err)
    assert not list((tmp_path / "cache").rglob("*.tmp"))  # nothing half-written left


def test_one_dimensional_points_plot_on_the_x_axis():
    from ganflow.sampler.images import scatter_png

    img = scatter_png(np.array([[-1.0], [0.5], [1.0]]), size=64)
    assert img.shape == (64, 64, 3) and (img == (20, 40, 140)).all(axis=2).any()
