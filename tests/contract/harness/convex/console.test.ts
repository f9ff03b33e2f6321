// What the shared cases do not say: the shape of the module a product team deploys.
import { convexTest } from "convex-test";
import { expect, test } from "vitest";
import args from "../args.json";
import { components } from "./_generated/api";
import baSchema from "./betterAuth/schema";
import * as contract from "./console";
import schema from "./schema";

const modules = import.meta.glob("./**/*.ts");
const baModules = import.meta.glob("./betterAuth/**/*.ts");

test("every contract function is internal: only the deploy key reaches it", () => {
  const fns = Object.entries(contract).filter(([, f]) => typeof (f as any).exportArgs === "function");
  expect(fns.length).toBe(17);
  for (const [name, f] of fns) expect((f as any).isInternal, name).toBe(true);
});

test("no argument is an Int64: every number is v.number()", () => {
  const text = JSON.stringify(args);
  expect(text).not.toContain('"bigint"');
  expect(text).toContain('"number"');
});

test("the last-owner rule counts every member of a large organization (paged reads)", async () => {
  const t = convexTest(schema, modules);
  t.registerComponent("betterAuth", baSchema, baModules);
  const { owner, memberId } = await t.run(async (ctx) => {
    const owner = await ctx.db.insert("users", { email: "o@x", role: "user", roles: [], isActive: true });
    const org: any = await ctx.runMutation(components.betterAuth.adapter.create, {
      input: { model: "organization", data: { name: "Big", slug: "big", createdAt: 1 } },
    });
    let memberId = "";
    for (let i = 0; i < 620; i++) {
      const m: any = await ctx.runMutation(components.betterAuth.adapter.create, {
        input: {
          model: "member",
          data: { organizationId: org._id, userId: i === 610 ? owner : `u${i}`, role: i === 610 ? "owner" : "member", createdAt: i },
        },
      });
      if (i === 610) memberId = m._id;
    }
    return { owner, memberId };
  });
  const as = t.withIdentity({ subject: owner, issuer: "ops-console" });
  await expect(
    as.mutation("console:setMemberRole" as any, { memberId, role: "admin", reason: "r" }),
  ).rejects.toMatchObject({
    data: { code: "refused", message: "This is the organization's last owner; make someone else owner first." },
  });
});

test("ending a user's sessions keeps the product's session fields and expires them now", async () => {
  const t = convexTest(schema, modules);
  t.registerComponent("betterAuth", baSchema, baModules);
  const later = Date.now() + 86_400_000;
  const { lead, target, ids, other } = await t.run(async (ctx) => {
    const lead = await ctx.db.insert("users", { email: "lead@x", role: "support", roles: ["support"], isActive: true });
    const target = await ctx.db.insert("users", { email: "t@x", role: "user", roles: [], isActive: true });
    const ids = [];
    for (let i = 0; i < 30; i++) {
      ids.push(await ctx.db.insert("sessions", {
        userId: target, token: `sess_${i}`, ipAddress: "203.0.113.9", isActive: true, expiresAt: later,
        activeOrganizationId: "org1",
      }));
    }
    const other = await ctx.db.insert("sessions", { userId: lead, isActive: true, expiresAt: later });
    return { lead, target, ids, other };
  });
  const before = Date.now();
  const result: any = await t
    .withIdentity({ subject: lead, issuer: "ops-console" })
    .mutation("console:endUserSessions" as any, { userId: target, reason: "takeover" });
  expect(result.ended).toBe(30);
  expect([...result.sessionIds].sort()).toEqual([...ids].sort());
  await t.run(async (ctx) => {
    for (const id of ids) {
      const s: any = await ctx.db.get(id);
      expect(s).toMatchObject({ isActive: false, token: expect.stringMatching(/^sess_/), ipAddress: "203.0.113.9",
        activeOrganizationId: "org1" });
      expect(s.expiresAt).toBeGreaterThanOrEqual(before);
      expect(s.expiresAt).toBeLessThan(later);
      expect(s.endedAt).toBe(s.expiresAt);
    }
    expect(await ctx.db.get(other)).toMatchObject({ isActive: true, expiresAt: later });
    const entries = await ctx.db.query("auditLogs").collect();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ action: "user.end_sessions", resource: "users", resourceId: target,
      actorUserId: lead, reason: "takeover", changes: { ended: 30 } });
  });
});
