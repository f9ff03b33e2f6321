import { convexTest } from "convex-test";
import { expect, test } from "vitest";
import schema from "./schema";
import baSchema from "./betterAuth/schema";

const modules = import.meta.glob("./**/*.ts");
const baModules = import.meta.glob("./betterAuth/**/*.ts");

test("smoke", async () => {
  const t = convexTest(schema, modules);
  t.registerComponent("betterAuth", baSchema, baModules);
  const adminId = await t.run(async (ctx) =>
    ctx.db.insert("users", { email: "a@x", role: "admin", roles: ["admin"], isActive: true }),
  );
  const me = await t.withIdentity({ subject: adminId, issuer: "ops-console" }).query("console:whoami" as any, {});
  expect(me.roles).toEqual(["admin"]);
  const org = await t.run(async (ctx) =>
    ctx.runMutation((await import("./_generated/api")).components.betterAuth.adapter.create, {
      input: { model: "organization", data: { name: "O", slug: "o", createdAt: 1 } },
    }),
  );
  console.log(org);
});
