"""ganflow.export."""
