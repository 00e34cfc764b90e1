"""Tables owned by casework: disputes and corrections, notifications to earlier recipients,
status-changing annotations with two approvers, and adverse-action findings (552a(p)).

Every table is append-only: a filing, request or finding is one row that never changes, and
what happens to it afterwards is a new event row. Current state is derived from the events
(``accord.casework.disputes``, ``annotations``, ``findings``). Statements of disagreement
(``dispute_statements``) are kept with the person: the gate attaches them to every later
disclosure.
"""

from __future__ import annotations

DDL: list[str] = [
    # One sequence numbers casework ids and orders events across the casework tables.
    "CREATE SEQUENCE IF NOT EXISTS casework_seq START 1",
    # A request to amend a record (552a(d)(2)), filed on the person's behalf.
    """CREATE TABLE IF NOT EXISTS disputes (
  dispute_id VARCHAR PRIMARY KEY,
  person_id VARCHAR NOT NULL,
  source VARCHAR NOT NULL,
  record_id VARCHAR NOT NULL,
  field VARCHAR NOT NULL,
  claimed_value VARCHAR,            -- NULL: the field should hold nothing
  statement VARCHAR NOT NULL CHECK (length(trim(statement)) > 0),
  filed_by VARCHAR NOT NULL,
  filed_on DATE NOT NULL,
  filed_at TIMESTAMPTZ NOT NULL,
  acknowledge_by DATE NOT NULL      -- 10 working days after filing (552a(d)(2)(A))
)""",
    """CREATE TABLE IF NOT EXISTS dispute_events (
  seq BIGINT PRIMARY KEY,
  dispute_id VARCHAR NOT NULL,
  event VARCHAR NOT NULL CHECK (event IN ('acknowledged', 'corrected', 'denied', 'statement')),
  on_date DATE NOT NULL,
  recorded_at TIMESTAMPTZ NOT NULL,
  user_id VARCHAR NOT NULL,
  text VARCHAR,                     -- note, reasons for a denial, or the statement
  appeal_rights VARCHAR,            -- denied: the appeal rights given to the person
  batch_id BIGINT,                  -- corrected: the ingest batch holding the new version
  version INTEGER                   -- corrected: the record's new version
)""",
    # 552a(c)(4): every earlier recipient is told of a correction or a statement of
    # disagreement. disclosure_seq is the audit seq of the disclosure (NULL: the record
    # system's owner, told so the system of record can be corrected too).
    """CREATE TABLE IF NOT EXISTS notifications (
  notification_id BIGINT PRIMARY KEY,
  dispute_id VARCHAR NOT NULL,
  person_id VARCHAR NOT NULL,
  kind VARCHAR NOT NULL CHECK (kind IN ('correction', 'statement_of_disagreement')),
  recipient VARCHAR NOT NULL,
  address VARCHAR,
  disclosure_seq BIGINT,
  record_disclosed BOOLEAN,         -- the disclosure included the disputed record (NULL: owner)
  notified_at TIMESTAMPTZ NOT NULL,
  created_by VARCHAR NOT NULL
)""",
    # A status-changing annotation on one record; in force with two distinct approvers, neither
    # the requester. The record itself is never edited.
    """CREATE TABLE IF NOT EXISTS annotations (
  annotation_id VARCHAR PRIMARY KEY,
  source VARCHAR NOT NULL,
  record_id VARCHAR NOT NULL,
  person_id VARCHAR,
  kind VARCHAR NOT NULL,
  reason_code VARCHAR NOT NULL,
  evidence VARCHAR NOT NULL CHECK (length(trim(evidence)) > 0),
  note VARCHAR,
  requested_by VARCHAR NOT NULL,
  requested_at TIMESTAMPTZ NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS annotation_events (
  seq BIGINT PRIMARY KEY,
  annotation_id VARCHAR NOT NULL,
  event VARCHAR NOT NULL CHECK (event IN ('approved', 'rejected')),
  user_id VARCHAR NOT NULL,
  recorded_at TIMESTAMPTZ NOT NULL,
  note VARCHAR,
  UNIQUE (annotation_id, user_id)
)""",
    # An adverse-action finding on a match result (552a(p)).
    """CREATE TABLE IF NOT EXISTS findings (
  finding_id VARCHAR PRIMARY KEY,
  person_id VARCHAR NOT NULL,
  agreement_id VARCHAR NOT NULL,
  purpose VARCHAR NOT NULL,
  records VARCHAR NOT NULL,         -- JSON [[source, record_id], ...] the match rests on
  basis VARCHAR NOT NULL CHECK (length(trim(basis)) > 0),
  opened_by VARCHAR NOT NULL,
  opened_on DATE NOT NULL,
  opened_at TIMESTAMPTZ NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS finding_events (
  seq BIGINT PRIMARY KEY,
  finding_id VARCHAR NOT NULL,
  event VARCHAR NOT NULL CHECK (event IN ('verified', 'notice_sent', 'contested', 'contest_upheld',
                                          'contest_rejected', 'actionable')),
  user_id VARCHAR NOT NULL,
  on_date DATE NOT NULL,            -- verified/decided on, notice sent on, contest received on
  recorded_at TIMESTAMPTZ NOT NULL,
  method VARCHAR,                   -- verification or notice method
  text VARCHAR,                     -- evidence, the person's contest, or the decision's reasons
  contest_seq BIGINT                -- contest_upheld / contest_rejected: the contest decided
)""",
    # Statements of disagreement (552a(d)(3)): they travel with every later disclosure of the
    # person. (Declared in the governance schema before casework had its own package: the
    # definition is unchanged, so stores made then are unaffected.)
    """CREATE TABLE IF NOT EXISTS dispute_statements (
  person_id VARCHAR NOT NULL,
  dispute_id VARCHAR NOT NULL,
  statement VARCHAR NOT NULL,
  filed_at TIMESTAMPTZ NOT NULL
)""",
]
