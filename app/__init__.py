"""Recap: offline-first meeting notes."""

__version__ = "0.1.0"
