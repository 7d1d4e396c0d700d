"""ganflow.sampler.stages."""
