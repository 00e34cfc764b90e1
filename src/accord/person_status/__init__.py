"""A person's status as a purpose may see it: the status rules (``accord.status``) applied to
the facts of the person's records gathered under the scope a gate decision issued, showing
only what the decision's disclosure scope allows.

- ``accord.person_status.facts`` gathers a person's facts (with link confidence and
  annotations in force) under an issued scope;
- ``accord.person_status.identity`` checks whether a person's identity is settled and finds
  records that may be theirs;
- ``accord.person_status.view`` determines and shows the status as the purpose may see it.
"""
