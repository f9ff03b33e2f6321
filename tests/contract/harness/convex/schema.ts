// A product's schema as the README asks for it: its own tables plus the console's fragment.
import { defineSchema } from "convex/server";
import { consoleTables } from "./schema.fragment";

export default defineSchema({ ...consoleTables });
