import { defineConfig } from "drizzle-kit";

// Generating migrations reads only the schema; applying them is `npm run db:setup`.
export default defineConfig({
  dialect: "mysql",
  schema: "./db/schema.ts",
  out: "./db/migrations",
});
