"""Casework: disputes and corrections, two-approver annotations, adverse-action findings."""
