// The console's rules, as console/domain (roles.py, jobs.py) states them: same decisions, same
// refusal texts. Pure functions over plain documents, so the stand-in and this contract can be run
// against one table of cases (tests/contract/cases.json) and cannot drift apart.

export const ADMIN = "admin";
export const SUPPORT = "support";
export const OWNER = "owner";
export const ORG_ADMIN = "admin";

export type Refusal = string | null;

type UserLike = {
  _id?: string;
  email?: string;
  role?: string;
  roles?: string[];
  permissions?: string[];
  isActive?: boolean;
};

export function memberRoles(role: string | null | undefined): Set<string> {
  // Better Auth stores free text, several roles comma-separated ("admin,member").
  return new Set(
    (role ?? "")
      .split(",")
      .map((r) => r.trim())
      .filter((r) => r),
  );
}

export function joinRoles(roles: Iterable<string>): string {
  const set = new Set([...roles].map((r) => r.trim()).filter((r) => r));
  return sortStrings([...set]).join(",");
}

export function sortStrings(values: string[]): string[] {
  // Python's sorted(): by code point. JS's default sort compares UTF-16 units; the same for the
  // role and permission names we sort.
  return [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function appRoles(user: UserLike): Set<string> {
  const roles = new Set((user.roles ?? []).filter((r) => typeof r === "string"));
  if (user.role && user.role !== "user") roles.add(user.role);
  return roles;
}

export function isActive(user: UserLike): boolean {
  return user.isActive !== false;
}

export function permissions(user: UserLike): Set<string> {
  const perms = new Set((user.permissions ?? []).filter((p) => typeof p === "string"));
  const roles = appRoles(user);
  if (roles.has(ADMIN)) {
    for (const p of ["jobs:retry", "jobs:cancel", "jobs:purge", "roles:write", "users:write", "webhooks:replay", "sessions:revoke"]) {
      perms.add(p);
    }
  }
  if (roles.has(SUPPORT)) {
    perms.add("jobs:retry");
    perms.add("sessions:revoke"); // ending a session: support's answer to a suspicious security event
  }
  return perms;
}

export function checkReason(reason: string | null | undefined): Refusal {
  return reason && reason.trim() ? null : "Every change needs a reason (it goes into the audit log).";
}

export function checkVersion(
  current: number | null | undefined,
  expected: number | null | undefined,
  what: string,
): Refusal {
  // No lost update: the contract bumps `opsVersion` on every write it makes.
  if (expected === undefined || expected === null) return null;
  if ((current ?? 0) !== expected) {
    return `The ${what} changed since you loaded them (someone else edited first). Refresh and try again.`;
  }
  return null;
}

export function checkExpectedRole(current: string | null | undefined, expected: string | null | undefined): Refusal {
  // Member rows live in the Better Auth component, whose schema has no version field: the edit is
  // based on the role the console saw, compared as a set of roles.
  if (expected === undefined || expected === null) return null;
  if (joinRoles(memberRoles(current)) !== joinRoles(memberRoles(expected))) {
    return "The member changed since you loaded them (someone else edited first). Refresh and try again.";
  }
  return null;
}

export function checkSetAppRoles(actor: UserLike, target: UserLike, newRoles: Set<string>, activeAdmins: number): Refusal {
  if (!isActive(actor)) return "Your own account is deactivated.";
  if (!appRoles(actor).has(ADMIN)) return "Only admins can change app roles.";
  const current = appRoles(target);
  const added = [...newRoles].filter((r) => !current.has(r));
  if (added.length > 0 && !isActive(target)) return "A deactivated user cannot be granted roles; reactivate them first.";
  if (current.has(ADMIN) && !newRoles.has(ADMIN) && isActive(target) && activeAdmins <= 1) {
    return "This is the last admin of the app; make someone else admin first.";
  }
  return null;
}

export function checkSetActive(actor: UserLike, target: UserLike, active: boolean, activeAdmins: number): Refusal {
  if (!appRoles(actor).has(ADMIN)) return "Only admins can deactivate or reactivate users.";
  if (!active && actor._id === target._id) return "You cannot deactivate yourself.";
  if (!active && appRoles(target).has(ADMIN) && isActive(target) && activeAdmins <= 1) {
    return "This is the last admin of the app; make someone else admin first.";
  }
  return null;
}

export function checkSetMemberRole(
  actorRoles: Set<string>,
  targetRoles: Set<string>,
  newRoles: Set<string>,
  owners: number,
): Refusal {
  // App admins get no bypass: an organization's roles are its owners' and admins' business.
  if (newRoles.size === 0) return "A member needs at least one role.";
  if (!actorRoles.has(OWNER) && !actorRoles.has(ORG_ADMIN)) {
    return "Only the organization's owners and admins can change member roles.";
  }
  if (!actorRoles.has(OWNER)) {
    if (targetRoles.has(OWNER)) return "An admin cannot demote or remove an owner.";
    if (newRoles.has(OWNER)) return "Only an owner can make someone an owner.";
  }
  if (targetRoles.has(OWNER) && !newRoles.has(OWNER) && owners <= 1) {
    return "This is the organization's last owner; make someone else owner first.";
  }
  return null;
}

export function checkPermission(actor: UserLike, permission: string, what: string): Refusal {
  if (!isActive(actor)) return "The operator's own account is deactivated.";
  if (!permissions(actor).has(permission)) {
    return `${actor.email || "The operator"} may not ${what} (needs ${permission}).`;
  }
  return null;
}

// -- jobs (console/domain/jobs.py) ------------------------------------------------------------------

export const JOB_STATES = ["pending", "running", "retrying", "dead", "succeeded", "canceled"] as const;
export const FINISHED = new Set(["dead", "succeeded", "canceled"]);
export const DEFAULT_LEASE_MS = 60_000;

type JobLike = {
  status: string;
  attempts?: number;
  claimedAt?: number | null;
  leaseMs?: number | null;
  manualRetries?: number;
};

export class JobRuleError extends Error {}

export function isStuck(job: JobLike, nowMs: number): boolean {
  // Claimed and past its lease: the worker died or hung; the job may be reclaimed.
  if (job.status !== "running" || job.claimedAt === undefined || job.claimedAt === null) return false;
  return nowMs > job.claimedAt + (job.leaseMs || DEFAULT_LEASE_MS);
}

export function manualRetry<J extends JobLike>(job: J, nowMs: number): J {
  // Runs now with a fresh automatic budget; `attempts` keeps counting, so the history stays.
  if (job.status === "running" && !isStuck(job, nowMs)) {
    throw new JobRuleError("the job is running now; retry it if it fails or gets stuck");
  }
  if (job.status === "succeeded") throw new JobRuleError("the job succeeded; enqueue a new job to run it again");
  return {
    ...job,
    status: "pending",
    nextRunAt: nowMs,
    retryBase: Math.trunc(job.attempts ?? 0),
    manualRetries: Math.trunc(job.manualRetries ?? 0) + 1,
    updatedAt: nowMs,
    claimedAt: null,
    claimedBy: null,
  };
}

export function cancel<J extends JobLike>(job: J, nowMs: number): J {
  if (FINISHED.has(job.status)) throw new JobRuleError(`the job is already ${job.status}`);
  const out: Record<string, unknown> = { ...job, status: "canceled", updatedAt: nowMs, claimedAt: null, claimedBy: null };
  delete out.nextRunAt;
  return out as J;
}

export function checkPurge(job: JobLike): void {
  // Only finished jobs may be deleted: a waiting or running one would be lost.
  if (!FINISHED.has(job.status)) throw new JobRuleError(`only finished jobs can be purged (this one is ${job.status})`);
}

// -- error fingerprints (console/domain/fingerprint.py) ---------------------------------------------
// The same patterns (ASCII classes, explicit lookarounds) and the same hash (FNV-1a 64 of the UTF-8), so an
// `errorGroup` filter selects here what the console's replica groups.

const T = "A-Za-z0-9_";
const FP_RULES: [RegExp, string][] = [
  [/[A-Za-z][A-Za-z0-9+.-]*:\/\/[^ \t\r'"<>()]+/g, "<url>"],
  [/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, "<email>"],
  [/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g, "<uuid>"],
  [/'[^']*'|"[^"]*"|`[^`]*`/g, "<q>"],
  [new RegExp(`(?<![${T}])0x[0-9a-fA-F]+(?![${T}])`, "g"), "<hex>"],
  [new RegExp(`(?<![${T}])(?=[0-9a-fA-F]*[0-9])[0-9a-fA-F]{8,}(?![${T}])`, "g"), "<hex>"],
  [new RegExp(`(?<![${T}-])(?=[${T}-]*[0-9])(?=[${T}-]*[A-Za-z])[${T}-]{4,}(?![${T}-])`, "g"), "<id>"],
  [/[0-9]+(?:\.[0-9]+)?/g, "<n>"],
  [/[ \t\r]+/g, " "],
];

export function normaliseError(error: string | null | undefined): string {
  let text = (error ?? "").split("\n", 1)[0];
  for (const [pattern, placeholder] of FP_RULES) text = text.replace(pattern, placeholder);
  return text.replace(/^ +| +$/g, "");
}

const FNV_OFFSET = BigInt("0xcbf29ce484222325");
const FNV_PRIME = BigInt("0x100000001b3");
const MASK = (BigInt(1) << BigInt(64)) - BigInt(1);

export function errorFingerprint(error: unknown): string | null {
  if (typeof error !== "string" || !error) return null;
  let h = FNV_OFFSET;
  for (const byte of new TextEncoder().encode(normaliseError(error))) {
    h = ((h ^ BigInt(byte)) * FNV_PRIME) & MASK;
  }
  return h.toString(16).padStart(16, "0");
}

export const FAILED = new Set(["retrying", "dead"]); // the states error groups count

// -- "error or payload contains" (console/domain/jobtext.py: the replica's FTS5 rule) -------------------
// Words of what was typed (letters and digits, case and accents folded) must be words of the job's last
// error, its attempts' errors or its payload's values; the last typed word may be the start of one.
export const MAX_TERMS = 16;
export const MAX_TERM_CHARS = 64;
const WORD = /[\p{L}\p{N}]+/gu;

function fold(text: string): string {
  return text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
}

export function textTerms(typed: string): string[] {
  const out: string[] = [];
  for (const match of fold(typed.slice(0, MAX_TERMS * (MAX_TERM_CHARS + 1))).matchAll(WORD)) {
    const word = match[0].slice(0, MAX_TERM_CHARS);
    if (!out.includes(word)) {
      out.push(word);
      if (out.length === MAX_TERMS) break;
    }
  }
  return out;
}

function atoms(value: unknown, out: string[]): void {
  // The payload's leaf values as SQLite's json_tree gives them: text, numbers, true/false as 1/0; no keys.
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) value.forEach((v) => atoms(v, out));
  else if (value instanceof ArrayBuffer) return;
  else if (typeof value === "object") Object.values(value as Record<string, unknown>).forEach((v) => atoms(v, out));
  else if (typeof value === "boolean") out.push(value ? "1" : "0");
  else out.push(String(value));
}

export function jobTextMatches(typed: string, job: { lastError?: string | null; errors?: unknown; payload?: unknown }): boolean {
  const wanted = textTerms(typed);
  if (wanted.length === 0) return true;
  const texts = [job.lastError ?? ""];
  if (Array.isArray(job.errors)) {
    for (const a of job.errors) {
      if (a && typeof a === "object" && (a as { error?: unknown }).error != null) texts.push(String((a as { error: unknown }).error));
    }
  }
  atoms(job.payload, texts);
  const have = new Set<string>();
  for (const t of texts) for (const m of fold(t).matchAll(WORD)) have.add(m[0]);
  const last = wanted[wanted.length - 1];
  if (wanted.slice(0, -1).some((w) => !have.has(w))) return false;
  if (last.length >= 2) return [...have].some((h) => h.startsWith(last));
  return have.has(last);
}

// -- sessions (console/domain/sessions.py) -----------------------------------------------------------

type SessionLike = { isActive?: boolean; active?: boolean; expiresAt?: number | null; endedAt?: number };

export function sessionLive(session: SessionLike, nowMs: number): boolean {
  // Live unless marked inactive or past its expiry.
  if (session.isActive === false || session.active === false) return false;
  return !(typeof session.expiresAt === "number" && session.expiresAt <= nowMs);
}

export function checkEndSession(session: SessionLike, nowMs: number): Refusal {
  return sessionLive(session, nowMs) ? null : "The session has already ended.";
}

export function checkEndUserSessions(live: number): Refusal {
  return live > 0 ? null : "The user has no active sessions.";
}

export function endSession<S extends SessionLike>(session: S, nowMs: number): S {
  // Marked inactive and expired now: the product's middleware refuses it from then on.
  const out: S = { ...session, isActive: false, endedAt: nowMs };
  if ("active" in session) out.active = false;
  if (typeof session.expiresAt !== "number" || session.expiresAt > nowMs) out.expiresAt = nowMs;
  return out;
}
