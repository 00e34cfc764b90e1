"""TRANSITIONAL: the readers of persons and links moved to :mod:`accord.resolve.entities`,
their owner; these names stay importable for the modules not yet moved to it
(``accord.governance.gate`` imports ``memberships``; ``accord.worklists.facts`` imports
``latest_run``, ``memberships`` and ``person_links``)."""

from accord.resolve.entities import Key, Link, PersonLinks, latest_run, memberships, person_links

__all__ = ["Key", "Link", "PersonLinks", "latest_run", "memberships", "person_links"]
