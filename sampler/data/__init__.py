"""Datasets, torch-free: 2-D toys and MNIST-layout image sets as float32 arrays with a DataSpec.

Training and evaluation read data through the same code; `ganflow eval` needs no torch.
"""

from ganflow.sampler.data.registry import DATASETS, Dataset, DataSpec, load_dataset

__all__ = ["DATASETS", "DataSpec", "Dataset", "load_dataset"]
