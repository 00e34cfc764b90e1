"""Tables owned by governance: registry versions, users, role grants and tokens, agreements,
the audit chain, the accounting of disclosures, disputes, annotations and adverse-action findings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from accord.governance import audit

if TYPE_CHECKING:
    from accord.store import Store

DDL: list[str] = [
    """CREATE TABLE IF NOT EXISTS registry_versions (
  version VARCHAR PRIMARY KEY,
  loaded_at TIMESTAMPTZ NOT NULL,
  content JSON NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS users (
  user_id VARCHAR PRIMARY KEY,
  name VARCHAR NOT NULL,
  roles VARCHAR[] NOT NULL,
  organisation VARCHAR,
  created_at TIMESTAMPTZ NOT NULL,
  created_by VARCHAR NOT NULL,
  active BOOLEAN NOT NULL
)""",
    # Every grant of a role to a user (accord.governance.users): pending until a second
    # administrator approves it when the role needs one, else granted at once; rejected; or
    # removed later (ended_by, ended_at). users.roles holds the roles in effect.
    "CREATE SEQUENCE IF NOT EXISTS role_grant_seq START 1",
    """CREATE TABLE IF NOT EXISTS role_grants (
  grant_id VARCHAR PRIMARY KEY,
  user_id VARCHAR NOT NULL,
  role VARCHAR NOT NULL,
  state VARCHAR NOT NULL,
  requested_by VARCHAR NOT NULL,
  requested_at TIMESTAMPTZ NOT NULL,
  decided_by VARCHAR,
  decided_at TIMESTAMPTZ,
  note VARCHAR,
  ended_by VARCHAR,
  ended_at TIMESTAMPTZ
)""",
    # Only a SHA-256 of each token is kept; the token itself is shown once when issued.
    """CREATE TABLE IF NOT EXISTS user_tokens (
  token_sha256 VARCHAR PRIMARY KEY,
  user_id VARCHAR NOT NULL,
  issued_at TIMESTAMPTZ NOT NULL,
  issued_by VARCHAR NOT NULL,
  revoked_at TIMESTAMPTZ
)""",
    # Every version of every agreement as submitted; the newest version is the one in force.
    """CREATE TABLE IF NOT EXISTS agreements (
  agreement_id VARCHAR NOT NULL,
  version INTEGER NOT NULL,
  purpose VARCHAR NOT NULL,
  starts_on DATE NOT NULL,
  ends_on DATE NOT NULL,
  content JSON NOT NULL,
  yaml VARCHAR NOT NULL,
  sha256 VARCHAR NOT NULL,
  added_at TIMESTAMPTZ NOT NULL,
  added_by VARCHAR NOT NULL,
  PRIMARY KEY (agreement_id, version)
)""",
    # The audit chain: each event's hash covers its content and the previous event's hash.
    # Text columns hold canonical JSON exactly as hashed. Nothing in the product deletes rows.
    """CREATE TABLE IF NOT EXISTS audit_events (
  seq BIGINT NOT NULL,
  at_utc VARCHAR NOT NULL,
  user_id VARCHAR NOT NULL,
  action VARCHAR NOT NULL,
  purpose VARCHAR,
  agreement VARCHAR,
  justification VARCHAR,
  persons VARCHAR NOT NULL,
  records VARCHAR NOT NULL,
  decision VARCHAR NOT NULL,
  reasons VARCHAR NOT NULL,
  outcome VARCHAR NOT NULL,
  origin VARCHAR NOT NULL,
  details VARCHAR NOT NULL,
  prev_hash VARCHAR NOT NULL,
  hash VARCHAR NOT NULL
)""",
    # The chain's head: one row, made with the table (seq 0 and the genesis hash before the
    # first event), so that every append reads it, and locks it, in its own transaction.
    """CREATE TABLE IF NOT EXISTS audit_head (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  seq BIGINT NOT NULL,
  hash VARCHAR NOT NULL
)""",
    audit.FIRST_HEAD,
    """CREATE TABLE IF NOT EXISTS disclosures (
  audit_seq BIGINT NOT NULL,
  disclosed_at TIMESTAMPTZ NOT NULL,
  person_id VARCHAR NOT NULL,
  records VARCHAR NOT NULL,
  nature VARCHAR NOT NULL,
  purpose VARCHAR NOT NULL,
  agreement VARCHAR,
  recipient_user VARCHAR NOT NULL,
  recipient VARCHAR NOT NULL,
  recipient_address VARCHAR,
  law_enforcement BOOLEAN NOT NULL,
  statement_attached BOOLEAN NOT NULL,
  retain_until DATE NOT NULL
)""",
]

# Web UI sessions (accord.governance.sessions): only a SHA-256 of each session id is kept; the
# id itself lives in the browser's cookie. A session ends at logout, after its idle or maximum
# time, or when its user or the token it was opened with stops being valid; nothing deletes rows.
DDL.append("""CREATE TABLE IF NOT EXISTS web_sessions (
  session_sha256 VARCHAR PRIMARY KEY,
  user_id VARCHAR NOT NULL,
  token_sha256 VARCHAR NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  last_seen TIMESTAMPTZ NOT NULL,
  ended_at TIMESTAMPTZ,
  end_reason VARCHAR
)""")

# --- version bookkeeping (accord.migrations) ---------------------------------------------------

# Schema version 2 began keeping role grants. The roles users held before are recorded as
# granted when the user was created, by whoever created them, with no second approver on record.
HELD_ROLES_NOTE = "held before schema version 2 (no second approver on record)"
_RECORD_HELD_ROLES = """INSERT INTO role_grants (grant_id, user_id, role, state, requested_by, requested_at,
    decided_by, decided_at, note, ended_by, ended_at)
SELECT printf('G-%06d', nextval('role_grant_seq')), h.user_id, h.role, 'granted', h.created_by,
       h.created_at, NULL, h.created_at, ?, NULL, NULL
FROM (SELECT user_id, created_by, created_at, unnest(roles) AS role FROM users
      ORDER BY created_at, user_id, role) h
WHERE NOT EXISTS (SELECT 1 FROM role_grants g
                  WHERE g.user_id = h.user_id AND g.role = h.role AND g.state = 'granted')"""


def record_held_roles(store: Store) -> int:
    """A granted ``role_grants`` row for every role a user holds without one; how many."""
    rows = store.write(_RECORD_HELD_ROLES, [HELD_ROLES_NOTE])
    return int(rows[0][0]) if rows else 0
