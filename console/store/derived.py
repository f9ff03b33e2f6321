"""Derived indexes kept current by triggers: full-text search (SQLite FTS5) over users and message
bodies, and user_roles, one row per (user, app role), so a role filter is an index lookup rather than
a scan of every user's JSON roles list.

users_fts stores its own small copy (name, email, phone and the phone's digits, so "4155550123"
finds "+1 (415) 555-0123"); messages_fts is external-content over messages to avoid a second copy
of every body.
"""

from __future__ import annotations

import re

_DIGITS = (
    "replace(replace(replace(replace(replace(replace(coalesce({p}.phone,''),"
    "'+',''),' ',''),'-',''),'(',''),')',''),'.','')"
)


def _users_values(p: str) -> str:
    # Full digits and the last ten (the national number), so both "1415..." and "415..." match.
    digits = _DIGITS.format(p=p)
    return f"{p}.pk, {p}.name, {p}.email, {p}.phone, {digits} || ' ' || substr({digits}, -10)"


DERIVED_DDL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS users_fts USING fts5("
    "name, email, phone, phone_digits, tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    "CREATE TRIGGER IF NOT EXISTS users_fts_ai AFTER INSERT ON users BEGIN "
    f"INSERT INTO users_fts(rowid, name, email, phone, phone_digits) VALUES ({_users_values('new')}); END",
    "CREATE TRIGGER IF NOT EXISTS users_fts_ad AFTER DELETE ON users BEGIN "
    "DELETE FROM users_fts WHERE rowid = old.pk; END",
    "CREATE TRIGGER IF NOT EXISTS users_fts_au AFTER UPDATE OF name, email, phone ON users BEGIN "
    "DELETE FROM users_fts WHERE rowid = old.pk; "
    f"INSERT INTO users_fts(rowid, name, email, phone, phone_digits) VALUES ({_users_values('new')}); END",
    "CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5("
    "body, content='messages', content_rowid='pk', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS messages_fts_ai AFTER INSERT ON messages BEGIN "
    "INSERT INTO messages_fts(rowid, body) VALUES (new.pk, new.body); END",
    "CREATE TRIGGER IF NOT EXISTS messages_fts_ad AFTER DELETE ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.pk, old.body); END",
    "CREATE TRIGGER IF NOT EXISTS messages_fts_au AFTER UPDATE OF body ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.pk, old.body); "
    "INSERT INTO messages_fts(rowid, body) VALUES (new.pk, new.body); END",
]

_ROLES_OF = (
    "SELECT {p}.pk, value FROM json_each(CASE WHEN json_valid({p}.roles) THEN {p}.roles ELSE '[]' END) "
    "UNION SELECT {p}.pk, {p}.role WHERE {p}.role IS NOT NULL"
)

DERIVED_DDL += [
    "CREATE TABLE IF NOT EXISTS user_roles (user_pk INTEGER NOT NULL, role TEXT NOT NULL, "
    "PRIMARY KEY (role, user_pk)) WITHOUT ROWID",
    "CREATE TRIGGER IF NOT EXISTS user_roles_ai AFTER INSERT ON users BEGIN "
    f"INSERT OR IGNORE INTO user_roles(user_pk, role) {_ROLES_OF.format(p='new')}; END",
    "CREATE TRIGGER IF NOT EXISTS user_roles_ad AFTER DELETE ON users BEGIN "
    "DELETE FROM user_roles WHERE user_pk = old.pk; END",
    "CREATE TRIGGER IF NOT EXISTS user_roles_au AFTER UPDATE OF roles, role ON users BEGIN "
    "DELETE FROM user_roles WHERE user_pk = old.pk; "
    f"INSERT OR IGNORE INTO user_roles(user_pk, role) {_ROLES_OF.format(p='new')}; END",
]

# Jobs per status, kept by triggers: the Jobs panel's state counts cost one tiny read, not a 1M-row scan.
JOB_COUNTS_DDL = [
    "CREATE TABLE IF NOT EXISTS job_counts (status TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE TRIGGER IF NOT EXISTS job_counts_ai AFTER INSERT ON jobs BEGIN "
    "INSERT INTO job_counts(status, n) VALUES (coalesce(new.status, ''), 1) "
    "ON CONFLICT(status) DO UPDATE SET n = n + 1; END",
    "CREATE TRIGGER IF NOT EXISTS job_counts_ad AFTER DELETE ON jobs BEGIN "
    "UPDATE job_counts SET n = n - 1 WHERE status = coalesce(old.status, ''); END",
    "CREATE TRIGGER IF NOT EXISTS job_counts_au AFTER UPDATE OF status ON jobs "
    "WHEN coalesce(old.status, '') != coalesce(new.status, '') BEGIN "
    "UPDATE job_counts SET n = n - 1 WHERE status = coalesce(old.status, ''); "
    "INSERT INTO job_counts(status, n) VALUES (coalesce(new.status, ''), 1) "
    "ON CONFLICT(status) DO UPDATE SET n = n + 1; END",
]
JOB_COUNTS_REBUILD = [
    "DELETE FROM job_counts",
    "INSERT INTO job_counts(status, n) SELECT coalesce(status, ''), count(*) FROM jobs GROUP BY 1",
]
DERIVED_DDL += JOB_COUNTS_DDL

# Rebuild the derived indexes from their tables (after a bulk load without triggers).
REBUILD = JOB_COUNTS_REBUILD + [
    "DELETE FROM user_roles",
    "INSERT OR IGNORE INTO user_roles(user_pk, role) SELECT u.pk, j.value FROM users u, "
    "json_each(CASE WHEN json_valid(u.roles) THEN u.roles ELSE '[]' END) j",
    "INSERT OR IGNORE INTO user_roles(user_pk, role) SELECT pk, role FROM users WHERE role IS NOT NULL",
    "DELETE FROM users_fts",
    f"INSERT INTO users_fts(rowid, name, email, phone, phone_digits) SELECT {_users_values('users')} FROM users",
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
]

TRIGGERS = ["users_fts_ai", "users_fts_ad", "users_fts_au", "messages_fts_ai", "messages_fts_ad", "messages_fts_au",
            "user_roles_ai", "user_roles_ad", "user_roles_au", "job_counts_ai", "job_counts_ad", "job_counts_au"]


def fts_query(text: str) -> str | None:
    """Turn what a person typed into an FTS5 prefix query; None when nothing searchable is left."""
    tokens = [f'"{t}"*' for t in re.findall(r"[^\W_]+", text)]
    return " ".join(tokens) or None
