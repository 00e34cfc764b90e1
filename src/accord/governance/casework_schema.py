"""Tables owned by casework: disputes and corrections, notifications to earlier recipients,
status-changing annotations with two approvers, and adverse-action findings (552a(p))."""

from __future__ import annotations

DDL: list[str] = []
