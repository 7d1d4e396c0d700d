"""Datasets: 2-D toys and MNIST-layout image sets, as float32 arrays with a DataSpec."""

from ganflow.training.data.registry import DATASETS, Dataset, DataSpec, load_dataset

__all__ = ["DATASETS", "DataSpec", "Dataset", "load_dataset"]
