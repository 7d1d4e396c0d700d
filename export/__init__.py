"""ganflow.export: torch -> ONNX graphs, numerical validation, bundle writer."""

# every exporter registers itself in ganflow.export.graph's registries when its module is imported
from ganflow.export import components, flow, likelihood, refine  # noqa: F401  isort: skip
from ganflow.export.bundle import export_bundle
from ganflow.export.onnx_export import ExportError, check_parity, export_onnx

__all__ = ["ExportError", "check_parity", "export_bundle", "export_onnx"]
