"""The single source of sseadapt's version number."""

__all__ = ["__version__"]

__version__ = "0.1.0"
