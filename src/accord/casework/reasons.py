"""The casework reason codes and texts, as data (``governance/registry/reason_codes.yaml``):
annotation kinds with their reason codes, and the appeal rights a denial states."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml


@cache
def reason_codes() -> dict[str, Any]:
    """The casework reason codes and texts (``registry/reason_codes.yaml``)."""
    text = resources.files("accord.governance").joinpath("registry", "reason_codes.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def default_appeal_rights() -> str:
    """The appeal rights a refusal to amend states when the handler gives none."""
    return str(reason_codes()["denial_appeal_rights"]).strip()


def annotation_kinds() -> dict[str, dict[str, Any]]:
    """Kind -> {title, effect, reasons: {code: meaning}}."""
    kinds: dict[str, dict[str, Any]] = reason_codes()["annotation_kinds"]
    return kinds
