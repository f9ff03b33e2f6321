// Drives a deployment with the official npm `convex` ConvexClient (convex/browser, the WebSocket sync client),
// unmodified. Environment: URL, KEY (deploy key), CHAT (a chat id).
// Prints one JSON object per line: the results of a query, mutation and action, then every update of a
// subscription to messages:list (the bodies of the page, and when it arrived). Ends on "quit" on stdin.
const { ConvexClient } = require("convex/browser");
const { makeFunctionReference } = require("convex/server");
const readline = require("readline");

const fn = (name) => makeFunctionReference(name);
const env = process.env;
const say = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

async function step(name, call) {
  try {
    say({ step: name, ok: true, value: await call() });
  } catch (e) {
    say({ step: name, ok: false, name: e.name, message: String(e.message), data: e.data === undefined ? null : e.data });
  }
}

(async () => {
  const client = new ConvexClient(env.URL, { skipConvexDeploymentUrlCheck: true });
  await step("anon_echo", () => client.action(fn("standin:echo"), { n: 1.5 }));
  await step("anon_internal", () => client.query(fn("users:get"), { userId: "x" }));
  client.setAdminAuth(env.KEY);
  await step("stats", () => client.query(fn("jobs:stats"), {}));
  await step("send", () => client.mutation(fn("messages:send"), { chatId: env.CHAT, body: "from the npm client",
                                                                  clientMessageId: "npm-ws-1" }));
  await step("bad_retry", () => client.mutation(fn("console:retryJob"), { jobId: "x", reason: "r" }));
  client.onUpdate(fn("messages:list"), { chatId: env.CHAT, limit: 50 }, (result) => {
    say({ step: "update", at: Date.now(), bodies: result.page.map((m) => m.body) });
  }, (e) => say({ step: "update_error", message: String(e.message) }));
  client.subscribeToConnectionState((state) => {
    say({ step: "connection", connected: state.isWebSocketConnected, retries: state.connectionRetries,
          count: state.connectionCount });
  });
  const rl = readline.createInterface({ input: process.stdin });
  rl.on("line", async (line) => {
    if (line.trim() === "quit") {
      await client.close();
      say({ step: "closed" });
      process.exit(0);
    }
  });
})();
