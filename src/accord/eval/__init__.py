"""Linkage quality (and, later, harm) measured against ground truth."""
