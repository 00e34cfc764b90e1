"""Standardise: records -> features (folded names, variant keys, phonetic codes, parsed dates,
identifiers and addresses). See ``features.build_features`` and docs/standardise.md."""

from accord.standardise.features import FEATURE_COLUMNS, build_features

__all__ = ["FEATURE_COLUMNS", "build_features"]
