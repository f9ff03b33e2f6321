// console/contract/args.json is what the contract's functions export as their argument validators
// (the `exportArgs()` Convex calls when it registers a function). The stand-in validates with it.
// Regenerate: python -m tests.contract_project --write-args
import { expect, test } from "vitest";
import expected from "../args.json";
import * as contract from "./console";

export function exported(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(contract).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const exportArgs = (fn as { exportArgs?: () => string }).exportArgs;
    if (typeof exportArgs === "function") out[`console:${name}`] = JSON.parse(exportArgs());
  }
  return out;
}

test("args.json is what the contract exports", async () => {
  const actual = exported();
  const out = (globalThis as any).process?.env?.WRITE_ARGS_JSON as string | undefined;
  if (out) {
    const fsModule = "node:fs"; // only under `--environment node` (python -m tests.contract_project --write-args)
    const fs = await import(/* @vite-ignore */ fsModule);
    fs.writeFileSync(out, JSON.stringify(actual, null, 1) + "\n");
  }
  expect(actual).toEqual(expected);
});
