"""Errors a user can cause: each says what was wrong and what to do (printed on one line)."""

from __future__ import annotations


class GanflowError(Exception):
    """Base class: the CLI prints `error: <message>` and exits with `exit_code`."""

    exit_code = 2


class InputError(GanflowError):
    """A bad argument: wrong type or range, unknown name, conflicting options."""


class DataError(GanflowError):
    """A dataset that cannot be found, read or downloaded."""


class BundleError(GanflowError):
    """A bundle that is missing, malformed, tampered with or unsafe."""


class ComponentMissingError(BundleError):
    """The bundle lacks the component a sampling method needs."""


class MethodError(InputError):
    """An unknown sampling method or stage, or one the bundle cannot run (a bad argument too)."""


class DeviceError(GanflowError):
    """The requested execution device (e.g. CUDA) is unavailable."""


class NumericsError(GanflowError):
    """NaN or inf appeared in latents or outputs."""


class MissingDependencyError(GanflowError):
    """An optional dependency (torch, onnxruntime) is not installed."""


class HubError(GanflowError):
    """The Hugging Face Hub could not serve or accept a bundle: not found, offline, refused."""
