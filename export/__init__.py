"""ganflow.export: torch -> ONNX graphs, numerical validation, bundle writer."""

from ganflow.export.bundle import export_bundle
from ganflow.export.onnx_export import ExportError, check_parity, export_onnx

# exporters defined outside components.py register on import
from ganflow.export import flow  # noqa: E402,F401  isort: skip

__all__ = ["ExportError", "check_parity", "export_bundle", "export_onnx"]
