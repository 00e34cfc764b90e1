"""Accord: purpose-bound record linkage across agency record systems."""

__version__ = "0.1.0"
