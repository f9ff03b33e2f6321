// A locally installed Better Auth component with the organization plugin, as the Better Auth Convex
// docs ("local install") describe; the console contract reads its `member` and `organization` models.
import type { BetterAuthOptions } from "better-auth/minimal";
import { organization } from "better-auth/plugins/organization";

export const createAuthOptions = (_ctx: unknown): BetterAuthOptions => ({ plugins: [organization()] });
