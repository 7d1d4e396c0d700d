"""ganflow.sampler: torch-free bundle reading, sampling stages, metrics and the CLI."""

from ganflow.sampler.version import __version__

__all__ = ["__version__"]
