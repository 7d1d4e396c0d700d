"""Training datasets: the sampler's torch-free readers (ganflow.sampler.data), re-exported."""

from ganflow.sampler.data import DATASETS, Dataset, DataSpec, load_dataset

__all__ = ["DATASETS", "DataSpec", "Dataset", "load_dataset"]
