"""Errors raised by the summariser.

The tree, so that callers can catch at the right level::

    SummarizerError
     ├── ModelLoadError      a model directory or name could not be loaded (nothing is ever downloaded)
     └── MissingDependencyError   an optional extra (sumy, trafilatura) is needed for what was asked
"""

from __future__ import annotations


class SummarizerError(Exception):
    """Base class of every error the summarizer package raises on purpose."""


class ModelLoadError(SummarizerError):
    """A model could not be loaded from the given name or path."""

    def __init__(self, model: str, reason: str) -> None:
        super().__init__(f"cannot load model {model!r}: {reason}")
        self.model = model
        self.reason = reason


class MissingDependencyError(SummarizerError):
    """An optional dependency is not installed."""

    def __init__(self, package: str, purpose: str) -> None:
        super().__init__(f"{purpose} needs the optional package {package!r}: pip install {package}")
        self.package = package
        self.purpose = purpose
