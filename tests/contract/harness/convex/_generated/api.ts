// What `npx convex codegen` writes, for the test harness (no deployment needed). The component's
// type is what codegen derives from a locally installed Better Auth component (betterAuth/adapter.ts).
import type { ApiFromModules, FilterApi, FunctionReference, RegisteredMutation, RegisteredQuery } from "convex/server";
import { anyApi, componentsGeneric } from "convex/server";
import type * as consoleModule from "../console.js";
import type * as adapter from "../betterAuth/adapter.js";

type FullApi = ApiFromModules<{ console: typeof consoleModule }>;
export const api: FilterApi<FullApi, FunctionReference<any, "public">> = anyApi as any;
export const internal: FilterApi<FullApi, FunctionReference<any, "internal">> = anyApi as any;

// createApi's argument types name the models of the package's default component (which has no
// organization plugin); codegen derives a local install's types from its schema instead. So the
// harness keeps the argument names and loosens only their value types.
type Args<A> = { [K in keyof A]: any };
type Ref<F> =
  F extends RegisteredQuery<any, infer A, infer R>
    ? FunctionReference<"query", "internal", Args<A>, Awaited<R>>
    : F extends RegisteredMutation<any, infer A, infer R>
      ? FunctionReference<"mutation", "internal", Args<A>, Awaited<R>>
      : never;
type ComponentFunctions<M> = { [K in keyof M]: Ref<M[K]> };

export const components = componentsGeneric() as unknown as {
  betterAuth: { adapter: ComponentFunctions<typeof adapter> };
};
