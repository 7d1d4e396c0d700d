"""ganflow.training.data."""
