// Drives a deployment with the official npm `convex` ConvexHttpClient, unmodified.
// Environment: URL, KEY (deploy key), OPERATOR (a users _id), JOB (a failed job id), CHAT (a chat id),
// MISSING_JOB (a valid jobs id of no document).
// Prints one JSON object: step name -> {ok, value} or {ok: false, name, message, data}.
const { ConvexHttpClient } = require("convex/browser");
const { makeFunctionReference } = require("convex/server");

const fn = (name) => makeFunctionReference(name);
const env = process.env;

async function step(out, name, call) {
  try {
    out[name] = { ok: true, value: await call() };
  } catch (e) {
    out[name] = { ok: false, name: e.name, message: String(e.message), data: e.data === undefined ? null : e.data };
  }
}

(async () => {
  const out = {};
  const anon = new ConvexHttpClient(env.URL, { skipConvexDeploymentUrlCheck: true });
  await step(out, "anon_whoami", () => anon.query(fn("console:whoami"), {}));
  await step(out, "anon_retry", () => anon.mutation(fn("console:retryJob"), { jobId: env.JOB, reason: "x" }));
  await step(out, "anon_internal", () => anon.query(fn("users:get"), { userId: env.OPERATOR }));
  await step(out, "anon_send", () => anon.mutation(fn("messages:send"), { chatId: env.CHAT, body: "hi from npm",
                                                                           clientMessageId: "npm-1" }));
  await step(out, "anon_action", () => anon.action(fn("standin:echo"), { n: 1.5 }));

  const admin = new ConvexHttpClient(env.URL, { skipConvexDeploymentUrlCheck: true });
  admin.setAdminAuth(env.KEY);
  await step(out, "admin_stats", () => admin.query(fn("jobs:stats"), {}));
  await step(out, "admin_get", () => admin.query(fn("users:get"), { userId: env.OPERATOR }));
  await step(out, "admin_consistent", () => admin.consistentQuery(fn("jobs:stats"), {}));
  await step(out, "admin_enqueue", () => admin.mutation(fn("jobs:enqueue"), { key: "npm-key-1", type: "sms.send" }));
  await step(out, "admin_action", () => admin.action(fn("standin:echo"), { big: 1234567890123n, f: 2 }));
  await step(out, "admin_action_on_mutation", () => admin.action(fn("jobs:enqueue"), { key: "npm-key-2" }));
  await step(out, "admin_missing", () => admin.query(fn("nope:nothing"), {}));

  const acting = new ConvexHttpClient(env.URL, { skipConvexDeploymentUrlCheck: true });
  acting.setAdminAuth(env.KEY, { subject: env.OPERATOR, issuer: "ops-console" });
  await step(out, "acting_whoami", () => acting.query(fn("console:whoami"), {}));
  await step(out, "acting_retry", () => acting.mutation(fn("console:retryJob"),
                                                        { jobId: env.JOB, reason: "retried from npm" }));
  await step(out, "acting_refused", () => acting.mutation(fn("console:retryJob"), { jobId: env.MISSING_JOB, reason: "x" }));
  for (const v of Object.values(out)) {
    if (v.ok && typeof v.value === "bigint") v.value = v.value.toString() + "n";
  }
  process.stdout.write(JSON.stringify(out, (k, v) => (typeof v === "bigint" ? v.toString() + "n" : v)));
})();
