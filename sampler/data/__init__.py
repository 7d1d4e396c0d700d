"""Datasets, torch-free: 2-D toys, MNIST, and your own data (.npy/.npz arrays, image folders) as
float32 examples with a DataSpec.

Training and evaluation read data through the same code; `ganflow eval` needs no torch.
"""

from ganflow.sampler.data.registry import DATASETS, load_dataset, other_split, reference_data
from ganflow.sampler.data.spec import DataOptions, Dataset, DataSource, DataSpec

__all__ = [
    "DATASETS",
    "DataOptions",
    "DataSource",
    "DataSpec",
    "Dataset",
    "load_dataset",
    "other_split",
    "reference_data",
]
