"""ganflow.training.losses."""
