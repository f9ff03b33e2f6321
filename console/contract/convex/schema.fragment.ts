// The tables and indexes the console contract (console.ts) reads and writes, with the fields the
// Ops Console models (console/store/mapping.py). Merge into your convex/schema.ts:
//
//   import { defineSchema } from "convex/server";
//   import { consoleTables } from "./schema.fragment";
//   export default defineSchema({ ...yourTables, ...consoleTables });
//
// If you already have one of these tables, keep yours and add to it what is missing: the fields
// below (spread `consoleUserFields` etc. into your defineTable) and the indexes, by these names.
// Every field but the few the contract needs is optional, so your documents keep their shape.
import { defineTable } from "convex/server";
import { v } from "convex/values";

export const consoleUserFields = {
  email: v.string(),
  name: v.optional(v.string()),
  // App roles: "admin", "support", custom ones. `role` is the primary role ("user" for none).
  roles: v.optional(v.array(v.string())),
  role: v.optional(v.string()),
  permissions: v.optional(v.array(v.string())),
  isActive: v.optional(v.boolean()),
  // The operator identity's `subject` is a users `_id` or this field (e.g. a Clerk user id).
  externalId: v.optional(v.string()),
  // Bumped by the contract on every write it makes to the user; the console sends the version it
  // saw and an edit based on an older one is refused (no lost update).
  opsVersion: v.optional(v.number()),
  phone: v.optional(v.string()),
  phoneNumber: v.optional(v.string()),
  image: v.optional(v.string()),
  labels: v.optional(v.array(v.string())),
  emailVerified: v.optional(v.boolean()),
  createdAt: v.optional(v.number()),
  lastLogin: v.optional(v.number()),
};

export const consoleJobFields = {
  key: v.string(),
  type: v.string(),
  payload: v.optional(v.any()),
  status: v.union(
    v.literal("pending"),
    v.literal("running"),
    v.literal("retrying"),
    v.literal("dead"),
    v.literal("succeeded"),
    v.literal("canceled"),
  ),
  attempts: v.number(),
  maxAttempts: v.number(),
  // attempts made before the last manual retry: the job is dead when attempts - retryBase reaches maxAttempts
  retryBase: v.optional(v.number()),
  manualRetries: v.optional(v.number()),
  nextRunAt: v.optional(v.number()),
  claimedAt: v.optional(v.union(v.number(), v.null())),
  claimedBy: v.optional(v.union(v.string(), v.null())),
  leaseMs: v.optional(v.number()),
  lastError: v.optional(v.string()),
  errors: v.optional(v.array(v.object({ attempt: v.number(), at: v.number(), error: v.string() }))),
  userId: v.optional(v.string()),
  deliveryId: v.optional(v.string()),
  createdAt: v.number(),
  updatedAt: v.number(),
};

export const consoleAuditLogFields = {
  actorUserId: v.string(),
  action: v.string(),
  resource: v.string(),
  resourceId: v.string(),
  timestamp: v.number(),
  changes: v.any(),
  reason: v.string(),
};

export const consoleChatFields = {
  userId: v.string(),
  title: v.optional(v.string()),
  createdAt: v.optional(v.number()),
  updatedAt: v.optional(v.number()),
};

export const consoleMessageFields = {
  chatId: v.id("chats"),
  role: v.string(),
  body: v.string(),
  createdAt: v.number(),
  clientMessageId: v.optional(v.string()),
};

export const consoleSessionFields = {
  userId: v.string(),
  // The product's own fields: the contract reads and writes only isActive, expiresAt and endedAt.
  token: v.optional(v.string()),
  ipAddress: v.optional(v.string()),
  userAgent: v.optional(v.string()),
  createdAt: v.optional(v.number()),
  lastActivityAt: v.optional(v.number()),
  isActive: v.optional(v.boolean()),
  expiresAt: v.optional(v.number()),
  endedAt: v.optional(v.number()),
  activeOrganizationId: v.optional(v.string()),
};

export const consoleTables = {
  users: defineTable(consoleUserFields).index("by_externalId", ["externalId"]).index("by_role", ["role"]),
  jobs: defineTable(consoleJobFields)
    .index("by_status", ["status"])
    .index("by_key", ["key"])
    .index("by_type", ["type"]),
  auditLogs: defineTable(consoleAuditLogFields).index("by_resource", ["resource", "resourceId"]),
  chats: defineTable(consoleChatFields).index("by_userId", ["userId"]),
  messages: defineTable(consoleMessageFields).index("by_chatId_createdAt", ["chatId", "createdAt"]),
  sessions: defineTable(consoleSessionFields).index("by_userId", ["userId"]),
};
