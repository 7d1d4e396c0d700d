"""ganflow.export: torch -> ONNX graphs, numerical validation, bundle writer."""

from ganflow.export.bundle import export_bundle
from ganflow.export.onnx_export import ExportError, check_parity, export_onnx

__all__ = ["ExportError", "check_parity", "export_bundle", "export_onnx"]
