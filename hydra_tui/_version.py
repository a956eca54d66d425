"""The version alone, so modules can read it without importing the package face (no cycle)."""

__version__ = "0.1.0"
