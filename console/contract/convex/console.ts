// The Ops Console contract: the functions the console calls on your deployment.
//
// Every function is internal: only a holder of the deploy key can call it (the console sends
// `Authorization: Convex <deploy key>:<base64 identity>`, an admin acting as the operator), never a
// client of your product. Writes check the operator's roles (consoleRules.ts, the same rules as the
// console's own), refuse with ConvexError({ code, message }), write one `auditLogs` entry per change
// and bump `opsVersion` on the users they change. Arguments are validated: numbers are v.number()
// (Float64); no argument is an Int64.
//
// Installed by `ops-console contract install --into convex/`; see the README, "Install the console
// contract". Needs the tables of schema.fragment.ts and a Better Auth component named `betterAuth`
// with the organization plugin (its `member` and `organization` models).
import { ConvexError, v } from "convex/values";
import { internalMutation, internalQuery } from "./_generated/server";
import type { MutationCtx, QueryCtx } from "./_generated/server";
import type { Doc, Id } from "./_generated/dataModel";
import { components } from "./_generated/api";
import * as R from "./consoleRules";

export type RefusalCode =
  | "no_operator"
  | "operator_deactivated"
  | "forbidden"
  | "not_found"
  | "refused"
  | "reason_required"
  | "stale"
  | "bad_args";

function refuse(code: RefusalCode, message: string): never {
  throw new ConvexError({ code, message });
}

function refuseIf(reason: R.Refusal, code: RefusalCode = "refused"): void {
  if (reason) refuse(code, reason);
}

// -- the operator ------------------------------------------------------------------------------------

async function operator(ctx: QueryCtx): Promise<Doc<"users"> | null> {
  // The identity's subject is the operator's users `_id` (what the console's Settings hold), or
  // their `externalId` (e.g. the Clerk or auth provider id).
  const identity = await ctx.auth.getUserIdentity();
  if (!identity) return null;
  const subject = identity.subject;
  const id = ctx.db.normalizeId("users", subject);
  if (id) {
    const user = await ctx.db.get(id);
    if (user) return user;
  }
  return await ctx.db
    .query("users")
    .withIndex("by_externalId", (q) => q.eq("externalId", subject))
    .first();
}

async function requireOperator(ctx: QueryCtx): Promise<Doc<"users">> {
  const user = await operator(ctx);
  if (!user) refuse("no_operator", "No operator identity, or it matches no user of this deployment.");
  if (!R.isActive(user)) refuse("operator_deactivated", "The operator's own account is deactivated.");
  return user;
}

function need(actor: Doc<"users">, permission: string, what: string): void {
  refuseIf(R.checkPermission(actor, permission, what), "forbidden");
}

async function audit(
  ctx: MutationCtx,
  actor: Doc<"users">,
  action: string,
  resource: string,
  resourceId: string,
  changes: unknown,
  reason: string | undefined,
): Promise<void> {
  await ctx.db.insert("auditLogs", {
    actorUserId: actor._id,
    action,
    resource,
    resourceId,
    timestamp: Date.now(),
    changes,
    reason: reason ?? "",
  });
}

function withoutSystemFields<T extends { _id: unknown; _creationTime: unknown }>(doc: T): Omit<T, "_id" | "_creationTime"> {
  const { _id, _creationTime, ...rest } = doc;
  return rest;
}

async function activeAdmins(ctx: QueryCtx): Promise<number> {
  // The rules only ask "is there another active admin?", so stop at two: the by_role index first
  // (admins usually have role "admin"), then the rest of the table for admins by `roles`.
  const seen = new Set<string>();
  for await (const u of ctx.db.query("users").withIndex("by_role", (q) => q.eq("role", R.ADMIN))) {
    if (R.isActive(u) && R.appRoles(u).has(R.ADMIN)) seen.add(u._id);
    if (seen.size >= 2) return seen.size;
  }
  for await (const u of ctx.db.query("users")) {
    if (R.isActive(u) && R.appRoles(u).has(R.ADMIN)) seen.add(u._id);
    if (seen.size >= 2) return seen.size;
  }
  return seen.size;
}

// -- reads ---------------------------------------------------------------------------------------------

export const whoami = internalQuery({
  args: {},
  handler: async (ctx) => {
    const user = await operator(ctx);
    if (!user) return null;
    return {
      userId: user._id,
      email: user.email,
      name: user.name ?? null,
      roles: R.sortStrings([...R.appRoles(user)]),
      permissions: R.sortStrings([...R.permissions(user)]),
      isActive: R.isActive(user),
      opsVersion: user.opsVersion ?? 0,
    };
  },
});

const SECRET_FIELDS = ["password", "passwordHash", "hashedPassword", "password_hash", "hash"];

export const getUser = internalQuery({
  args: { userId: v.id("users") },
  handler: async (ctx, args) => {
    const user = await ctx.db.get(args.userId);
    if (!user) return null;
    const out: Record<string, unknown> = { ...user };
    for (const f of SECRET_FIELDS) delete out[f];
    return out;
  },
});

export const getJob = internalQuery({
  args: { jobId: v.id("jobs") },
  handler: async (ctx, args) => await ctx.db.get(args.jobId),
});

const STATS_CAP = 1000;

export const jobStats = internalQuery({
  args: {},
  handler: async (ctx) => {
    // Convex has no count(): each state is counted up to STATS_CAP (the replica has exact counts);
    // `capped` lists the states that reached it.
    const counts: Record<string, number> = {};
    const capped: string[] = [];
    for (const status of R.JOB_STATES) {
      const n = (
        await ctx.db
          .query("jobs")
          .withIndex("by_status", (q) => q.eq("status", status))
          .take(STATS_CAP)
      ).length;
      counts[status] = n;
      if (n >= STATS_CAP) capped.push(status);
    }
    return { counts, capped };
  },
});

export const listMessages = internalQuery({
  args: { chatId: v.id("chats"), limit: v.optional(v.number()), before: v.optional(v.number()) },
  handler: async (ctx, args) => {
    // The newest `limit` messages before `before` (ms), oldest first; `isDone` when no older ones.
    const limit = Math.max(1, Math.min(Math.trunc(args.limit || 50), 200));
    const before = args.before;
    const rows = await ctx.db
      .query("messages")
      .withIndex("by_chatId_createdAt", (q) =>
        before === undefined ? q.eq("chatId", args.chatId) : q.eq("chatId", args.chatId).lt("createdAt", before),
      )
      .order("desc")
      .take(limit + 1);
    return { page: rows.slice(0, limit).reverse(), isDone: rows.length <= limit };
  },
});

export const getOrganization = internalQuery({
  args: { organizationId: v.string() },
  handler: async (ctx, args) =>
    await ctx.runQuery(components.betterAuth.adapter.findOne, {
      model: "organization",
      where: [{ field: "_id", operator: "eq", value: args.organizationId }],
    }),
});

export const listOrganizations = internalQuery({
  args: { limit: v.optional(v.number()) },
  handler: async (ctx, args) => {
    const result = await ctx.runQuery(components.betterAuth.adapter.findMany, {
      model: "organization",
      paginationOpts: { numItems: Math.max(1, Math.min(Math.trunc(args.limit || 100), 1000)), cursor: null },
    });
    return result.page;
  },
});

// -- writes: jobs ----------------------------------------------------------------------------------------

async function getOr404<T>(doc: Promise<T | null>, what: string, id: string): Promise<T> {
  const found = await doc;
  if (!found) refuse("not_found", `No ${what} with id ${id}.`);
  return found;
}

async function changeJob(
  ctx: MutationCtx,
  jobId: Id<"jobs">,
  reason: string | undefined,
  permission: string,
  what: string,
  action: string,
  transition: (job: Doc<"jobs">, nowMs: number) => Doc<"jobs">,
) {
  const actor = await requireOperator(ctx);
  need(actor, permission, what);
  refuseIf(R.checkReason(reason), "reason_required"); // every audit entry has a reason, whichever client sent it
  const job = await getOr404(ctx.db.get(jobId), "job", jobId);
  let next: Doc<"jobs">;
  try {
    next = transition(job, Date.now());
  } catch (e) {
    if (e instanceof R.JobRuleError) refuse("refused", e.message);
    throw e;
  }
  await ctx.db.replace(job._id, withoutSystemFields(next));
  await audit(ctx, actor, action, "jobs", job._id, { status: { before: job.status, after: next.status } }, reason);
  return await ctx.db.get(job._id);
}

export const retryJob = internalMutation({
  args: { jobId: v.id("jobs"), reason: v.optional(v.string()) },
  handler: async (ctx, args) =>
    await changeJob(ctx, args.jobId, args.reason, "jobs:retry", "retry jobs", "job.retry", R.manualRetry),
});

export const cancelJob = internalMutation({
  args: { jobId: v.id("jobs"), reason: v.optional(v.string()) },
  handler: async (ctx, args) =>
    await changeJob(ctx, args.jobId, args.reason, "jobs:cancel", "cancel jobs", "job.cancel", R.cancel),
});

const jobFilter = v.object({
  status: v.optional(v.union(v.string(), v.array(v.string()))),
  type: v.optional(v.string()),
  key: v.optional(v.string()),
  id: v.optional(v.string()),
  createdFrom: v.optional(v.number()),
  createdTo: v.optional(v.number()),
  text: v.optional(v.string()),
  // An error group: the fingerprint of the last error (R.errorFingerprint); without a status, failed
  // (retrying) and dead jobs only, as the console groups them.
  errorGroup: v.optional(v.string()),
  userId: v.optional(v.string()),
});

type JobFilter = {
  status?: string | string[];
  type?: string;
  key?: string;
  id?: string;
  createdFrom?: number;
  createdTo?: number;
  text?: string;
  errorGroup?: string;
  userId?: string;
};

function matches(job: Doc<"jobs">, f: JobFilter): boolean {
  if (f.status !== undefined && !(Array.isArray(f.status) ? f.status : [f.status]).includes(job.status)) return false;
  if (f.type !== undefined && job.type !== f.type) return false;
  if (f.key !== undefined && job.key !== f.key) return false;
  if (f.id !== undefined && job._id !== f.id) return false;
  if (f.userId !== undefined && job.userId !== f.userId) return false;
  if (f.createdFrom !== undefined && (job.createdAt || 0) < f.createdFrom) return false;
  if (f.createdTo !== undefined && (job.createdAt || 0) >= f.createdTo) return false;
  if (f.text !== undefined && !R.jobTextMatches(f.text, job)) return false;
  if (f.errorGroup !== undefined) {
    if (f.status === undefined && !R.FAILED.has(job.status)) return false;
    if (R.errorFingerprint(job.lastError) !== f.errorGroup) return false;
  }
  return true;
}

function candidates(ctx: MutationCtx, f: JobFilter) {
  // The narrowest index the filter allows; `matches` checks every field anyway.
  if (typeof f.status === "string") {
    const status = f.status as Doc<"jobs">["status"];
    return ctx.db.query("jobs").withIndex("by_status", (q) => q.eq("status", status));
  }
  if (f.key !== undefined) {
    const key = f.key;
    return ctx.db.query("jobs").withIndex("by_key", (q) => q.eq("key", key));
  }
  if (f.type !== undefined) {
    const type = f.type;
    return ctx.db.query("jobs").withIndex("by_type", (q) => q.eq("type", type));
  }
  return ctx.db.query("jobs");
}

type Bulk = "retry" | "cancel" | "purge";
const BULK: Record<Bulk, { permission: string; what: string; done: string }> = {
  retry: { permission: "jobs:retry", what: "retry jobs", done: "retried" },
  cancel: { permission: "jobs:cancel", what: "cancel jobs", done: "canceled" },
  purge: { permission: "jobs:purge", what: "purge jobs", done: "purged" },
};

async function bulkJobs(
  ctx: MutationCtx,
  verb: Bulk,
  args: { filter: JobFilter; limit?: number; reason?: string },
): Promise<Record<string, unknown>> {
  // Every job matching `filter`, at most `limit` (default 1000) changed; one audit entry for the batch.
  // One mutation reads what Convex allows one transaction to read: the console sends limit <= 1000.
  const { permission, what, done } = BULK[verb];
  const actor = await requireOperator(ctx);
  need(actor, permission, what);
  refuseIf(R.checkReason(args.reason), "reason_required");
  const limit = args.limit === undefined ? 1000 : Math.max(0, Math.trunc(args.limit));
  const now = Date.now();
  let matched = 0;
  let changed = 0;
  const skipped: Record<string, number> = {};
  const found: Doc<"jobs">[] = [];
  for await (const job of candidates(ctx, args.filter)) {
    if (matches(job, args.filter)) found.push(job);
  }
  found.sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0)); // id order, as the stand-in
  for (const job of found) {
    matched += 1;
    if (changed >= limit) continue;
    try {
      if (verb === "purge") {
        R.checkPurge(job);
        await ctx.db.delete(job._id);
      } else {
        const next = verb === "retry" ? R.manualRetry(job, now) : R.cancel(job, now);
        await ctx.db.replace(job._id, withoutSystemFields(next));
      }
      changed += 1;
    } catch (e) {
      if (!(e instanceof R.JobRuleError)) throw e;
      skipped[job.status] = (skipped[job.status] ?? 0) + 1;
    }
  }
  await audit(ctx, actor, `job.${verb}_many`, "jobs", "*", { filter: args.filter, matched, [done]: changed, limit }, args.reason);
  const nSkipped = Object.values(skipped).reduce((a, b) => a + b, 0);
  return { matched, [done]: changed, skipped, capped: matched - nSkipped > changed };
}

export const retryJobs = internalMutation({
  args: { filter: jobFilter, limit: v.optional(v.number()), reason: v.optional(v.string()) },
  handler: async (ctx, args) => await bulkJobs(ctx, "retry", args),
});

export const cancelJobs = internalMutation({
  args: { filter: jobFilter, limit: v.optional(v.number()), reason: v.string() },
  handler: async (ctx, args) => await bulkJobs(ctx, "cancel", args),
});

export const purgeJobs = internalMutation({
  // Deletes finished jobs (succeeded, canceled, dead) only; waiting and running ones are skipped.
  args: { filter: jobFilter, limit: v.optional(v.number()), reason: v.string() },
  handler: async (ctx, args) => await bulkJobs(ctx, "purge", args),
});

// -- writes: users and roles --------------------------------------------------------------------------------

export const setUserRoles = internalMutation({
  args: {
    userId: v.id("users"),
    roles: v.array(v.string()),
    reason: v.string(),
    expectedVersion: v.optional(v.number()),
  },
  handler: async (ctx, args) => {
    const actor = await requireOperator(ctx);
    const target = await getOr404(ctx.db.get(args.userId), "user", args.userId);
    const roles = new Set(args.roles.filter((r) => r));
    refuseIf(R.checkReason(args.reason), "reason_required");
    refuseIf(R.checkVersion(target.opsVersion, args.expectedVersion, "user"), "stale");
    refuseIf(R.checkSetAppRoles(actor, target, roles, await activeAdmins(ctx)));
    const before = R.sortStrings([...R.appRoles(target)]);
    const after = R.sortStrings([...roles]);
    const patch: Partial<Doc<"users">> = { roles: after, opsVersion: (target.opsVersion ?? 0) + 1 };
    if ((target.role === R.ADMIN || target.role === R.SUPPORT) && !roles.has(target.role)) {
      patch.role = roles.has(R.ADMIN) ? "admin" : roles.has(R.SUPPORT) ? "support" : "user";
    }
    await ctx.db.patch(target._id, patch);
    await audit(ctx, actor, "user.set_roles", "users", target._id, { roles: { before, after } }, args.reason);
    return { userId: target._id, roles: after, opsVersion: patch.opsVersion };
  },
});

export const setUserActive = internalMutation({
  args: {
    userId: v.id("users"),
    active: v.boolean(),
    reason: v.string(),
    expectedVersion: v.optional(v.number()),
  },
  handler: async (ctx, args) => {
    const actor = await requireOperator(ctx);
    const target = await getOr404(ctx.db.get(args.userId), "user", args.userId);
    refuseIf(R.checkReason(args.reason), "reason_required");
    refuseIf(R.checkVersion(target.opsVersion, args.expectedVersion, "user"), "stale");
    refuseIf(R.checkSetActive(actor, target, args.active, await activeAdmins(ctx)));
    const opsVersion = (target.opsVersion ?? 0) + 1;
    await ctx.db.patch(target._id, { isActive: args.active, opsVersion });
    await audit(
      ctx,
      actor,
      args.active ? "user.activate" : "user.deactivate",
      "users",
      target._id,
      { isActive: { before: R.isActive(target), after: args.active } },
      args.reason,
    );
    return { userId: target._id, isActive: args.active, opsVersion };
  },
});

type Member = { _id: string; organizationId: string; userId: string; role: string };

async function orgMembers(ctx: MutationCtx, organizationId: string): Promise<Member[]> {
  const out: Member[] = [];
  let cursor: string | null = null;
  for (;;) {
    const result = (await ctx.runQuery(components.betterAuth.adapter.findMany, {
      model: "member",
      where: [{ field: "organizationId", operator: "eq", value: organizationId }],
      paginationOpts: { numItems: 500, cursor },
    })) as { page: Member[]; isDone: boolean; continueCursor: string };
    out.push(...result.page);
    if (result.isDone) return out;
    cursor = result.continueCursor;
  }
}

export const setMemberRole = internalMutation({
  args: {
    memberId: v.string(),
    role: v.string(),
    reason: v.string(),
    // The member's role as the console saw it (Better Auth's member rows have no version field).
    expectedRole: v.optional(v.string()),
  },
  handler: async (ctx, args) => {
    const actor = await requireOperator(ctx);
    const member = (await ctx.runQuery(components.betterAuth.adapter.findOne, {
      model: "member",
      where: [{ field: "_id", operator: "eq", value: args.memberId }],
    })) as Member | null;
    if (!member) refuse("not_found", `No member with id ${args.memberId}.`);
    const orgId = member.organizationId;
    const members = await orgMembers(ctx, orgId);
    const mine = members.find((m) => m.userId === actor._id);
    const newRoles = R.memberRoles(args.role);
    refuseIf(R.checkReason(args.reason), "reason_required");
    refuseIf(R.checkExpectedRole(member.role, args.expectedRole), "stale");
    const owners = members.filter((m) => R.memberRoles(m.role).has(R.OWNER)).length;
    refuseIf(
      R.checkSetMemberRole(mine ? R.memberRoles(mine.role) : new Set(), R.memberRoles(member.role), newRoles, owners),
    );
    const role = R.joinRoles(newRoles);
    await ctx.runMutation(components.betterAuth.adapter.updateOne, {
      input: { model: "member", where: [{ field: "_id", operator: "eq", value: member._id }], update: { role } },
    });
    await audit(
      ctx,
      actor,
      "member.set_role",
      "members",
      member._id,
      { role: { before: member.role, after: role }, organizationId: orgId },
      args.reason,
    );
    return { memberId: member._id, organizationId: orgId, role };
  },
});

// -- writes: sessions -----------------------------------------------------------------------------------
// Ending a session is the usual answer to a suspicious security event: `sessions:revoke` (admin, support),
// a reason, one audit entry on the user (resource "users"), so it shows in the user's history.

export const endSession = internalMutation({
  args: { sessionId: v.id("sessions"), reason: v.string() },
  handler: async (ctx, args) => {
    const actor = await requireOperator(ctx);
    need(actor, "sessions:revoke", "end sessions");
    const session = await getOr404(ctx.db.get(args.sessionId), "session", args.sessionId);
    refuseIf(R.checkReason(args.reason), "reason_required");
    const now = Date.now();
    refuseIf(R.checkEndSession(session, now));
    await ctx.db.replace(session._id, withoutSystemFields(R.endSession(session, now)));
    await audit(ctx, actor, "session.end", "users", session.userId,
      { sessions: [session._id], isActive: { before: true, after: false } }, args.reason);
    return { sessionId: session._id, userId: session.userId, ended: 1 };
  },
});

export const endUserSessions = internalMutation({
  args: { userId: v.id("users"), reason: v.string() },
  handler: async (ctx, args) => {
    const actor = await requireOperator(ctx);
    need(actor, "sessions:revoke", "end sessions");
    const user = await getOr404(ctx.db.get(args.userId), "user", args.userId);
    refuseIf(R.checkReason(args.reason), "reason_required");
    const now = Date.now();
    const live: Doc<"sessions">[] = [];
    for await (const s of ctx.db.query("sessions").withIndex("by_userId", (q) => q.eq("userId", user._id))) {
      if (R.sessionLive(s, now)) live.push(s);
    }
    refuseIf(R.checkEndUserSessions(live.length));
    live.sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0)); // id order, as the stand-in
    for (const s of live) await ctx.db.replace(s._id, withoutSystemFields(R.endSession(s, now)));
    const sessionIds = live.map((s) => s._id);
    await audit(ctx, actor, "user.end_sessions", "users", user._id, { sessions: sessionIds, ended: live.length },
      args.reason);
    return { userId: user._id, ended: live.length, sessionIds };
  },
});
