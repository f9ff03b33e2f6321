// Marks the component's root for convex-test (it finds modules relative to `_generated`).
import { anyApi } from "convex/server";
export const api = anyApi;
export const internal = anyApi;
