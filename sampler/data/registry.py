"""Dataset registry: a name (2-D toys, MNIST) or a path (MNIST files, an array file, an image
folder: the sources of data/sources.py) -> Dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ganflow.sampler.data.mnist import is_mnist_path, load_mnist_arrays
from ganflow.sampler.data.sources import find_source, register_source
from ganflow.sampler.data.spec import DataOptions, Dataset, DataSource, DataSpec
from ganflow.sampler.errors import DataError, InputError
from ganflow.sampler.metrics.toy2d import TOY_NAMES, sample_toy
from ganflow.sampler.registry import Registry

DATASETS: Registry = Registry("dataset", DataError)
TOY_POINTS = 100_000  # size of the fixed training set drawn for a 2-D toy
MNIST_NAMES = ("mnist", "fashion-mnist")


def _toy_loader(name: str):
    def load(source: str | None, split: str, seed: int) -> Dataset:
        # a different stream per split so that test points are not training points
        rng = np.random.default_rng([seed, 0 if split == "train" else 1])
        x = sample_toy(name, TOY_POINTS, rng).astype(np.float32)
        return Dataset(DataSpec(name, (2,), None), x, source=name)

    return load


for _name in TOY_NAMES:
    DATASETS.register(_name)(_toy_loader(_name))


def _image_loader(name: str):
    def load(source: str | None, split: str, seed: int) -> Dataset:
        images, labels = load_mnist_arrays(source, name=name, split=split)
        x = (images.astype(np.float32) / 127.5 - 1.0)[:, None, :, :]  # [N, 1, 28, 28] in [-1, 1]
        return Dataset(DataSpec(name, (1, 28, 28), (-1.0, 1.0)), x, labels, source or name)

    return load


for _name in MNIST_NAMES:
    DATASETS.register(_name)(_image_loader(_name))


@register_source(
    "mnist", is_mnist_path, "MNIST files (a folder of IDX files, or an .npz with x_train/y_train)"
)
def _mnist_files(path: Path, split: str, dataset: str | None, options: DataOptions) -> Dataset:
    name = dataset or "mnist"
    if name not in MNIST_NAMES:
        raise DataError(
            f"{path} holds MNIST-layout images: --dataset must be mnist or fashion-mnist, got {name!r}"
        )
    if options.given():
        raise DataError(f"{path} holds MNIST files: drop the options that read your own data (--layout ...)")
    return DATASETS.get(name)(str(path), split, 0)


# the sources of the user's own data register themselves when imported: after MNIST's, which is
# asked first (an MNIST .npz or IDX folder is not read as plain arrays or an image folder)
from ganflow.sampler.data import arrays, image_folder  # noqa: E402,F401  isort: skip


def load_dataset(
    data: str,
    *,
    dataset: str | None = None,
    split: str = "train",
    seed: int = 0,
    options: DataOptions | None = None,
) -> Dataset:
    """Load `data`: a registered name (downloads MNIST when absent) or a path, read by the first
    source that claims it (MNIST files, an .npy/.npz array file, a folder of images), labelled
    `dataset` (MNIST files: "mnist" unless "fashion-mnist"; your own data: the file's name) and
    read as `options` say (layout, range, split...)."""
    if split not in ("train", "test"):
        raise DataError(f"unknown split {split!r}: use 'train' or 'test'")
    if data in DATASETS:
        if dataset not in (None, data):
            raise DataError(f"--data {data} and --dataset {dataset} disagree: give only --data")
        return DATASETS.get(data)(None, split, seed)
    path = Path(data).expanduser()
    if not path.exists():
        raise DataError(
            f"--data {data!r} is neither a dataset ({', '.join(DATASETS.names())}) nor an "
            "existing path: check the spelling or the path"
        )
    return find_source(path).load(path, split, dataset, options or DataOptions())


def other_split(ds: Dataset, split: str) -> Dataset:
    """The `split` of the data `ds` came from, read the same way."""
    return load_dataset(ds.source or ds.spec.name, dataset=ds.spec.name, split=split, options=ds.options)


def reference_data(
    data: str | None,
    dataset: str | None,
    options: DataOptions | None,
    trained_on: str | None,
    source: dict | None = None,
) -> tuple[str, str | None, DataOptions | None]:
    """(--data, its label, how to read it) for samples of a model trained on `trained_on` (a
    bundle's manifest["data"]["dataset"]) from `source` (its manifest["data"]["source"], set when
    it was the user's own data). Own data is read as in training (the same layout, range and
    split) unless `options` say otherwise; it cannot be found by name, so --data is required."""
    if source is None:
        data = data or trained_on
        if data is None:
            raise InputError("which data do these samples belong to? pass --data")
        return data, dataset, options
    saved = DataSource.from_dict(source)
    if data is None:
        raise InputError(
            f"the bundle was trained on your own data ({saved.name}, sha256 {saved.sha256[:12]}...): "
            "pass --data PATH to that file or folder"
        )
    return data, dataset or trained_on, (options or DataOptions()).over(saved.options(), False, "")
