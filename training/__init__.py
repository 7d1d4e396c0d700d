"""ganflow.training."""
