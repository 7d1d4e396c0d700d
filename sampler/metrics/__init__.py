"""ganflow.sampler.metrics."""
