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
    # Full digits, the last ten (the national number), seven (the local number) and four, so "1415...",
    # "415...", "555-0123" and the "0123" support staff type all match (FTS5 matches prefixes only).
    digits = _DIGITS.format(p=p)
    return (f"{p}.pk, {p}.name, {p}.email, {p}.phone, {digits} || ' ' || substr({digits}, -10) || ' ' || "
            f"substr({digits}, -7) || ' ' || substr({digits}, -4)")


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


def _latency_bin_case(col: str) -> str:
    """The latency bin (15 per decade from 0.1 ms) by comparisons: works on every SQLite build."""
    edges = [0.1 * 10 ** ((b + 1) / 15) for b in range(90)]
    return "CASE " + " ".join(f"WHEN {col} < {e!r} THEN {i}" for i, e in enumerate(edges)) + " ELSE 90 END"


# Per-minute rollups of the call log, kept by a trigger: a day or a week of charts reads thousands of
# rollup rows instead of a million calls. The raw log still answers short ranges exactly.
CALL_ROLLUP_DDL = [
    "CREATE TABLE IF NOT EXISTS call_rollup (minute INTEGER NOT NULL, function TEXT NOT NULL, kind TEXT NOT NULL, "
    "source TEXT NOT NULL, outcome TEXT NOT NULL, n INTEGER NOT NULL, "
    "PRIMARY KEY (minute, function, kind, source, outcome)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS call_latency_rollup (minute INTEGER NOT NULL, bin INTEGER NOT NULL, "
    "n INTEGER NOT NULL, PRIMARY KEY (minute, bin)) WITHOUT ROWID",
    "CREATE TRIGGER IF NOT EXISTS call_rollup_ai AFTER INSERT ON call_log BEGIN "
    "INSERT INTO call_rollup VALUES (CAST(new.at / 60 AS INTEGER), new.function, new.kind, new.source, new.outcome, 1) "
    "ON CONFLICT DO UPDATE SET n = n + 1; "
    "INSERT INTO call_latency_rollup SELECT CAST(new.at / 60 AS INTEGER), "
    f"{_latency_bin_case('new.latency_ms')}, 1 WHERE new.source = 'network' "
    "ON CONFLICT DO UPDATE SET n = n + 1; END",
    "CREATE TRIGGER IF NOT EXISTS call_rollup_ad AFTER DELETE ON call_log BEGIN "
    "UPDATE call_rollup SET n = n - 1 WHERE minute = CAST(old.at / 60 AS INTEGER) AND function = old.function "
    "AND kind = old.kind AND source = old.source AND outcome = old.outcome; "
    "UPDATE call_latency_rollup SET n = n - 1 WHERE old.source = 'network' AND minute = CAST(old.at / 60 AS INTEGER) "
    f"AND bin = {_latency_bin_case('old.latency_ms')}; END",
]
CALL_ROLLUP_REBUILD = [
    "DELETE FROM call_rollup",
    "DELETE FROM call_latency_rollup",
    "INSERT INTO call_rollup SELECT CAST(at / 60 AS INTEGER), function, kind, source, outcome, count(*) FROM call_log "
    "GROUP BY 1, 2, 3, 4, 5",
    f"INSERT INTO call_latency_rollup SELECT CAST(at / 60 AS INTEGER), {_latency_bin_case('latency_ms')}, count(*) "
    "FROM call_log WHERE source = 'network' GROUP BY 1, 2",
]
DERIVED_DDL += CALL_ROLLUP_DDL

# Per-function rollups of the local function-log history, kept by a trigger on insert only: the history is
# capped (loghistory.CAP), and trimming old entries must not take their calls out of a day's metrics.
# Calls, errors and cache hits per minute; execution-time histograms per hour (a day is 24 x functions x
# bins rows, so percentiles over a day are one small GROUP BY).
FUNCTION_ROLLUP_DDL = [
    "CREATE TABLE IF NOT EXISTS function_rollup (minute INTEGER NOT NULL, identifier TEXT NOT NULL, "
    "udf_type TEXT NOT NULL, n INTEGER NOT NULL, errors INTEGER NOT NULL, cached INTEGER NOT NULL, "
    "PRIMARY KEY (minute, identifier, udf_type)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS function_latency_rollup (hour INTEGER NOT NULL, identifier TEXT NOT NULL, "
    "bin INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (hour, identifier, bin)) WITHOUT ROWID",
    "CREATE TRIGGER IF NOT EXISTS function_rollup_ai AFTER INSERT ON function_logs "
    "WHEN new.kind = 'Completion' BEGIN "
    "INSERT INTO function_rollup VALUES (CAST(new.at / 60 AS INTEGER), new.identifier, new.udf_type, 1, "
    "new.outcome = 'failure', coalesce(new.cached, 0)) "
    "ON CONFLICT DO UPDATE SET n = n + 1, errors = errors + excluded.errors, cached = cached + excluded.cached; "
    "INSERT INTO function_latency_rollup SELECT CAST(new.at / 3600 AS INTEGER), new.identifier, "
    f"{_latency_bin_case('new.execution_ms')}, 1 WHERE new.execution_ms IS NOT NULL "
    "ON CONFLICT DO UPDATE SET n = n + 1; END",
]
FUNCTION_ROLLUP_REBUILD = [
    "DELETE FROM function_rollup",
    "DELETE FROM function_latency_rollup",
    "INSERT INTO function_rollup SELECT CAST(at / 60 AS INTEGER), identifier, udf_type, count(*), "
    "sum(outcome = 'failure'), sum(coalesce(cached, 0)) FROM function_logs WHERE kind = 'Completion' GROUP BY 1, 2, 3",
    f"INSERT INTO function_latency_rollup SELECT CAST(at / 3600 AS INTEGER), identifier, "
    f"{_latency_bin_case('execution_ms')}, count(*) FROM function_logs "
    "WHERE kind = 'Completion' AND execution_ms IS NOT NULL GROUP BY 1, 2, 3",
]
DERIVED_DDL += FUNCTION_ROLLUP_DDL

# Row counts of the tables the status bar shows, kept by triggers: count(*) reads a whole index, and on a
# million-row replica that is seconds of I/O on every refresh. Upserts that update a row fire no insert.
COUNTED_TABLES = ("users", "chats", "messages", "jobs", "webhook_deliveries")
TABLE_COUNTS_DDL = [
    "CREATE TABLE IF NOT EXISTS table_counts (name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID",
]
for _t in COUNTED_TABLES:
    TABLE_COUNTS_DDL += [
        f"CREATE TRIGGER IF NOT EXISTS {_t}_count_ai AFTER INSERT ON {_t} BEGIN "
        f"UPDATE table_counts SET n = n + 1 WHERE name = '{_t}'; END",
        f"CREATE TRIGGER IF NOT EXISTS {_t}_count_ad AFTER DELETE ON {_t} BEGIN "
        f"UPDATE table_counts SET n = n - 1 WHERE name = '{_t}'; END",
    ]
TABLE_COUNTS_REBUILD = ["DELETE FROM table_counts"] + [
    f"INSERT INTO table_counts(name, n) SELECT '{_t}', count(*) FROM {_t}" for _t in COUNTED_TABLES
]
DERIVED_DDL += TABLE_COUNTS_DDL + TABLE_COUNTS_REBUILD  # the rebuild seeds a new file's rows with 0

# Queue by job type: jobs per (type, status), kept by triggers as job_counts; and a per-minute rollup of
# state changes into succeeded / retrying (a failed attempt) / dead, per type, kept on change only (deleting
# or purging jobs does not rewrite history), so rates over an hour or a day read rollup rows, not jobs.
JOB_TYPE_COUNTS_DDL = [
    "CREATE TABLE IF NOT EXISTS job_type_counts (type TEXT NOT NULL, status TEXT NOT NULL, n INTEGER NOT NULL, "
    "PRIMARY KEY (type, status)) WITHOUT ROWID",
    "CREATE TRIGGER IF NOT EXISTS job_type_counts_ai AFTER INSERT ON jobs BEGIN "
    "INSERT INTO job_type_counts(type, status, n) VALUES (coalesce(new.type, ''), coalesce(new.status, ''), 1) "
    "ON CONFLICT DO UPDATE SET n = n + 1; END",
    "CREATE TRIGGER IF NOT EXISTS job_type_counts_ad AFTER DELETE ON jobs BEGIN "
    "UPDATE job_type_counts SET n = n - 1 WHERE type = coalesce(old.type, '') AND status = coalesce(old.status, ''); END",
    "CREATE TRIGGER IF NOT EXISTS job_type_counts_au AFTER UPDATE OF type, status ON jobs "
    "WHEN coalesce(old.status, '') != coalesce(new.status, '') OR coalesce(old.type, '') != coalesce(new.type, '') "
    "BEGIN "
    "UPDATE job_type_counts SET n = n - 1 WHERE type = coalesce(old.type, '') AND status = coalesce(old.status, ''); "
    "INSERT INTO job_type_counts(type, status, n) VALUES (coalesce(new.type, ''), coalesce(new.status, ''), 1) "
    "ON CONFLICT DO UPDATE SET n = n + 1; END",
    "CREATE TABLE IF NOT EXISTS job_events (minute INTEGER NOT NULL, type TEXT NOT NULL, status TEXT NOT NULL, "
    "n INTEGER NOT NULL, PRIMARY KEY (minute, type, status)) WITHOUT ROWID",
    "CREATE TRIGGER IF NOT EXISTS job_events_ai AFTER INSERT ON jobs "
    "WHEN new.status IN ('succeeded', 'retrying', 'dead') BEGIN "
    "INSERT INTO job_events VALUES (coalesce(new.updated_at, 0) / 60000, coalesce(new.type, ''), new.status, 1) "
    "ON CONFLICT DO UPDATE SET n = n + 1; END",
    "CREATE TRIGGER IF NOT EXISTS job_events_au AFTER UPDATE OF status ON jobs "
    "WHEN new.status IN ('succeeded', 'retrying', 'dead') AND coalesce(old.status, '') != new.status BEGIN "
    "INSERT INTO job_events VALUES (coalesce(new.updated_at, 0) / 60000, coalesce(new.type, ''), new.status, 1) "
    "ON CONFLICT DO UPDATE SET n = n + 1; END",
]
JOB_TYPE_COUNTS_REBUILD = [
    "DELETE FROM job_type_counts",
    "INSERT INTO job_type_counts(type, status, n) SELECT coalesce(type, ''), coalesce(status, ''), count(*) FROM jobs "
    "GROUP BY 1, 2",
    "DELETE FROM job_events",
    "INSERT INTO job_events SELECT coalesce(updated_at, 0) / 60000, coalesce(type, ''), status, count(*) FROM jobs "
    "WHERE status IN ('succeeded', 'retrying', 'dead') GROUP BY 1, 2, 3",
]
DERIVED_DDL += JOB_TYPE_COUNTS_DDL

# Error groups: failed (retrying) and dead jobs per (fingerprint, type, status), kept by triggers, and failures
# per hour and fingerprint (changes into retrying or dead, kept on change only) for the groups' sparklines.
_FAILED = "('retrying', 'dead')"
ERROR_GROUPS_DDL = [
    "CREATE TABLE IF NOT EXISTS error_group_counts (fp TEXT NOT NULL, type TEXT NOT NULL, status TEXT NOT NULL, "
    "n INTEGER NOT NULL, PRIMARY KEY (fp, type, status)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS error_events (hour INTEGER NOT NULL, fp TEXT NOT NULL, n INTEGER NOT NULL, "
    "PRIMARY KEY (hour, fp)) WITHOUT ROWID",
    "CREATE TRIGGER IF NOT EXISTS error_groups_ai AFTER INSERT ON jobs "
    f"WHEN new.error_fp IS NOT NULL AND new.status IN {_FAILED} BEGIN "
    "INSERT INTO error_group_counts VALUES (new.error_fp, coalesce(new.type, ''), new.status, 1) "
    "ON CONFLICT DO UPDATE SET n = n + 1; "
    "INSERT INTO error_events VALUES (coalesce(new.updated_at, 0) / 3600000, new.error_fp, 1) "
    "ON CONFLICT DO UPDATE SET n = n + 1; END",
    "CREATE TRIGGER IF NOT EXISTS error_groups_ad AFTER DELETE ON jobs "
    f"WHEN old.error_fp IS NOT NULL AND old.status IN {_FAILED} BEGIN "
    "UPDATE error_group_counts SET n = n - 1 WHERE fp = old.error_fp AND type = coalesce(old.type, '') "
    "AND status = old.status; END",
    "CREATE TRIGGER IF NOT EXISTS error_groups_au AFTER UPDATE OF error_fp, status, type ON jobs "
    "WHEN old.error_fp IS NOT new.error_fp OR old.status IS NOT new.status OR old.type IS NOT new.type BEGIN "
    "UPDATE error_group_counts SET n = n - 1 WHERE old.error_fp IS NOT NULL AND old.status IN " + _FAILED + " "
    "AND fp = old.error_fp AND type = coalesce(old.type, '') AND status = old.status; "
    "INSERT INTO error_group_counts SELECT new.error_fp, coalesce(new.type, ''), new.status, 1 "
    f"WHERE new.error_fp IS NOT NULL AND new.status IN {_FAILED} ON CONFLICT DO UPDATE SET n = n + 1; "
    "INSERT INTO error_events SELECT coalesce(new.updated_at, 0) / 3600000, new.error_fp, 1 "
    f"WHERE new.error_fp IS NOT NULL AND new.status IN {_FAILED} AND old.status IS NOT new.status "
    "ON CONFLICT DO UPDATE SET n = n + 1; END",
]
ERROR_GROUPS_REBUILD = [
    "DELETE FROM error_group_counts",
    "INSERT INTO error_group_counts SELECT error_fp, coalesce(type, ''), status, count(*) FROM jobs "
    f"WHERE error_fp IS NOT NULL AND status IN {_FAILED} GROUP BY 1, 2, 3",
    "DELETE FROM error_events",
    "INSERT INTO error_events SELECT coalesce(updated_at, 0) / 3600000, error_fp, count(*) FROM jobs "
    f"WHERE error_fp IS NOT NULL AND status IN {_FAILED} GROUP BY 1, 2",
]
DERIVED_DDL += ERROR_GROUPS_DDL

# "Error or payload contains": full-text search over the jobs' error texts (the last error and each attempt's)
# and the payload's values, kept by triggers. Its own small copy of the text, not external content: the JSON
# keys ("userId", "attempt", "at"...) would otherwise be words of every job, and match everything.
def _job_text(p: str) -> str:
    errors = (f"coalesce({p}.last_error, '') || ' ' || coalesce((SELECT group_concat(DISTINCT "
              f"json_extract(value, '$.error')) FROM json_each(CASE WHEN json_valid({p}.errors) THEN {p}.errors ELSE '[]' END) WHERE type = 'object'), '')")
    payload = (f"coalesce((SELECT group_concat(atom, ' ') FROM json_tree(CASE WHEN json_valid({p}.payload) "
               f"THEN {p}.payload ELSE '{{}}' END) WHERE atom IS NOT NULL), '')")
    return f"{p}.pk, {errors}, {payload}"


JOBS_FTS_DDL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS jobs_fts USING fts5(error, payload, "
    "tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    f"CREATE TRIGGER IF NOT EXISTS jobs_fts_ai AFTER INSERT ON jobs BEGIN "
    f"INSERT INTO jobs_fts(rowid, error, payload) SELECT {_job_text('new')}; END",
    "CREATE TRIGGER IF NOT EXISTS jobs_fts_ad AFTER DELETE ON jobs BEGIN DELETE FROM jobs_fts WHERE rowid = old.pk; END",
    "CREATE TRIGGER IF NOT EXISTS jobs_fts_au AFTER UPDATE OF last_error, errors, payload ON jobs "
    "WHEN old.last_error IS NOT new.last_error OR old.errors IS NOT new.errors OR old.payload IS NOT new.payload "
    f"BEGIN DELETE FROM jobs_fts WHERE rowid = old.pk; "
    f"INSERT INTO jobs_fts(rowid, error, payload) SELECT {_job_text('new')}; END",
]
JOBS_FTS_REBUILD = ["DELETE FROM jobs_fts",
                    f"INSERT INTO jobs_fts(rowid, error, payload) SELECT {_job_text('jobs')} FROM jobs"]
DERIVED_DDL += JOBS_FTS_DDL

# Rebuild the derived indexes from their tables (after a bulk load without triggers).
REBUILD = JOB_COUNTS_REBUILD + JOB_TYPE_COUNTS_REBUILD + ERROR_GROUPS_REBUILD + JOBS_FTS_REBUILD + CALL_ROLLUP_REBUILD + TABLE_COUNTS_REBUILD + FUNCTION_ROLLUP_REBUILD + [
    "DELETE FROM user_roles",
    "INSERT OR IGNORE INTO user_roles(user_pk, role) SELECT u.pk, j.value FROM users u, "
    "json_each(CASE WHEN json_valid(u.roles) THEN u.roles ELSE '[]' END) j",
    "INSERT OR IGNORE INTO user_roles(user_pk, role) SELECT pk, role FROM users WHERE role IS NOT NULL",
    "DELETE FROM users_fts",
    f"INSERT INTO users_fts(rowid, name, email, phone, phone_digits) SELECT {_users_values('users')} FROM users",
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
]

TRIGGERS = ["users_fts_ai", "users_fts_ad", "users_fts_au", "messages_fts_ai", "messages_fts_ad", "messages_fts_au",
            "user_roles_ai", "user_roles_ad", "user_roles_au", "job_counts_ai", "job_counts_ad", "job_counts_au",
            "call_rollup_ai", "call_rollup_ad", "job_type_counts_ai", "job_type_counts_ad", "job_type_counts_au",
            "job_events_ai", "job_events_au", "jobs_fts_ai", "jobs_fts_ad", "jobs_fts_au",
            "error_groups_ai", "error_groups_ad", "error_groups_au"] + [f"{t}_count_{k}" for t in COUNTED_TABLES for k in ("ai", "ad")]


# FTS5's cost grows with every term of a query (3,400 x "ab" took 130 s on 30k messages): repeated words
# count once, and only the first MAX_TERMS words, each cut to MAX_TERM_CHARS, are searched.
MAX_TERMS = 16
MAX_TERM_CHARS = 64


def search_terms(text: str) -> list[str]:
    """The words of what a person typed, as searched: word characters only (FTS5 syntax is text), in order,
    each once, bounded."""
    out: list[str] = []
    for t in re.findall(r"[^\W_]+", text[:MAX_TERMS * 1024]):
        t = t[:MAX_TERM_CHARS]
        if t.lower() not in (o.lower() for o in out):
            out.append(t)
            if len(out) == MAX_TERMS:
                break
    return out


def fts_query(text: str) -> str | None:
    """Turn what a person typed into an FTS5 prefix query; None when nothing searchable is left."""
    return " ".join(f'"{t}"*' for t in search_terms(text)) or None
