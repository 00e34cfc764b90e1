"""Casework: the Privacy Act duties owed to the people in the records, each a governed action.

Disputes and corrections (``disputes``, ``filing``, ``handling``, ``corrections``,
``statements``, ``notifications``), two-approver annotations (``annotations``) and
adverse-action findings (``findings``); their tables (``schema``).
"""
