// The shared rule cases (cases.json, also run against the stand-in by tests/test_contract_parity.py)
// through the real contract in convex-test, with the real Better Auth adapter as component.
import { convexTest } from "convex-test";
import { ConvexError, jsonToConvex } from "convex/values";
import { expect, test } from "vitest";
import casesFile from "../cases.json";
import { components } from "./_generated/api";
import baSchema from "./betterAuth/schema";
import schema from "./schema";

const modules = import.meta.glob("./**/*.ts");
const baModules = import.meta.glob("./betterAuth/**/*.ts");

const QUERIES = new Set([
  "console:whoami",
  "console:getUser",
  "console:getJob",
  "console:jobStats",
  "console:listMessages",
  "console:getOrganization",
  "console:listOrganizations",
]);
const APP_TABLES = ["users", "chats", "messages", "jobs", "auditLogs"];
const COMPONENT_TABLES = ["organization", "member"];

type Json = any;
type Case = {
  name: string;
  actor: string | null | Record<string, string>;
  call: { function: string; args: Json };
  expect: { ok?: boolean; code?: string; message?: string; invalidArgs?: boolean };
  setup?: Record<string, Record<string, Json>>;
  patch?: Record<string, Json>;
  delete?: string[];
  result?: Json;
  after?: Record<string, Json>;
  audit?: Json;
  audits?: number;
};

function resolve(value: Json, ids: Map<string, string>, now: number): Json {
  if (typeof value === "string" && value.startsWith("@")) {
    const id = ids.get(value.slice(1));
    if (id === undefined) throw new Error(`no setup document ${value}`);
    return id;
  }
  if (Array.isArray(value)) return value.map((v) => resolve(v, ids, now));
  if (value && typeof value === "object") {
    if (Object.keys(value).length === 1 && "$ago" in value) return now - value.$ago;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, ids, now)]));
  }
  return value;
}

function expectSubset(actual: Json, expected: Json, where: string): void {
  if (expected === null || typeof expected !== "object") {
    expect(actual, where).toEqual(expected);
    return;
  }
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual), `${where}: an array`).toBe(true);
    expect(actual.length, `${where}: length`).toBe(expected.length);
    expected.forEach((e, i) => expectSubset(actual[i], e, `${where}[${i}]`));
    return;
  }
  expect(actual !== null && typeof actual === "object", `${where}: an object`).toBe(true);
  for (const [k, v] of Object.entries(expected)) {
    if (k === "$absent") {
      for (const f of v as string[]) expect(f in actual, `${where}.${f} absent`).toBe(false);
      continue;
    }
    expectSubset(actual[k], v, `${where}.${k}`);
  }
}

const { fixture, cases } = casesFile as unknown as { fixture: Record<string, Record<string, Json>>; cases: Case[] };

for (const c of cases) {
  test(c.name, async () => {
    const t = convexTest(schema, modules);
    t.registerComponent("betterAuth", baSchema, baModules);
    const now = Date.now();
    const ids = new Map<string, string>();
    const tables = new Map<string, string>();
    const docs: Record<string, Record<string, Json>> = {};
    for (const table of [...APP_TABLES, ...COMPONENT_TABLES]) {
      docs[table] = { ...(fixture[table] ?? {}), ...(c.setup?.[table] ?? {}) };
      for (const [name, patch] of Object.entries(c.patch ?? {})) {
        if (name in docs[table]) docs[table][name] = { ...docs[table][name], ...patch };
      }
    }
    await t.run(async (ctx) => {
      for (const table of APP_TABLES) {
        for (const [name, doc] of Object.entries(docs[table])) {
          // Setup documents are Convex JSON: {"$integer": …} is an Int64 (a bigint), as the stand-in stores it.
          ids.set(name, await ctx.db.insert(table as any, jsonToConvex(resolve(doc, ids, now)) as any));
          tables.set(name, table);
        }
      }
      for (const model of COMPONENT_TABLES) {
        for (const [name, doc] of Object.entries(docs[model])) {
          const created = await ctx.runMutation(components.betterAuth.adapter.create, {
            input: { model, data: resolve(doc, ids, now) },
          });
          ids.set(name, (created as any)._id);
          tables.set(name, model);
        }
      }
      for (const name of c.delete ?? []) {
        const table = tables.get(name)!;
        if (APP_TABLES.includes(table)) await ctx.db.delete(ids.get(name) as any);
        else
          await ctx.runMutation(components.betterAuth.adapter.deleteOne, {
            input: { model: table, where: [{ field: "_id", operator: "eq", value: ids.get(name) }] },
          });
      }
    });
    const auditsBefore = await t.run(async (ctx) => (await ctx.db.query("auditLogs").collect()).length);

    const caller =
      c.actor === null
        ? t
        : t.withIdentity(
            typeof c.actor === "string"
              ? { subject: resolve(c.actor, ids, now), issuer: "ops-console" }
              : { issuer: "ops-console", ...c.actor },
          );
    const args = jsonToConvex(resolve(c.call.args, ids, now)) as any;
    const fn = c.call.function as any;
    let outcome: { ok: true; value: Json } | { code: string; message: string } | { invalidArgs: string };
    try {
      const value = QUERIES.has(c.call.function) ? await caller.query(fn, args) : await caller.mutation(fn, args);
      outcome = { ok: true, value };
    } catch (e) {
      if (e instanceof ConvexError) outcome = { code: (e.data as any).code, message: (e.data as any).message };
      else if (e instanceof Error && e.message.includes("Validator error")) outcome = { invalidArgs: e.message };
      else throw e;
    }

    if (c.expect.ok) {
      expect(outcome, "outcome").toHaveProperty("ok", true);
      if ("result" in c) expectSubset((outcome as any).value, resolve(c.result, ids, now), "result");
    } else if (c.expect.invalidArgs) {
      expect(outcome, "outcome").toHaveProperty("invalidArgs");
    } else {
      expect(outcome, "outcome").toMatchObject({ code: c.expect.code });
      if (c.expect.message) expect((outcome as any).message).toBe(c.expect.message);
    }

    const after = await t.run(async (ctx) => {
      const out: Record<string, Json> = {};
      for (const name of Object.keys(c.after ?? {})) {
        const table = tables.get(name)!;
        out[name] = APP_TABLES.includes(table)
          ? await ctx.db.get(ids.get(name) as any)
          : await ctx.runQuery(components.betterAuth.adapter.findOne, {
              model: table,
              where: [{ field: "_id", operator: "eq", value: ids.get(name) }],
            });
      }
      return { docs: out, audits: await ctx.db.query("auditLogs").collect() };
    });
    for (const [name, expected] of Object.entries(c.after ?? {})) {
      expectSubset(after.docs[name], resolve(expected, ids, now), `after ${name}`);
    }
    const added = after.audits.length - auditsBefore;
    if (c.audits !== undefined) expect(added, "audit entries added").toBe(c.audits);
    if (c.audit === null) expect(added, "no audit entry").toBe(0);
    else if (c.audit !== undefined) {
      expect(added, "one audit entry").toBe(1);
      const entry = after.audits[after.audits.length - 1];
      expectSubset(entry, resolve(c.audit, ids, now), "audit");
      expect(Math.abs(entry.timestamp - Date.now()) < 60_000, "audit timestamp is now").toBe(true);
    }
  });
}
