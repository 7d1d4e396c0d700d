"""ganflow.sampler."""
