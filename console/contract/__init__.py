"""The console contract as deployable TypeScript (convex/*.ts) and its argument validators (args.json)."""
