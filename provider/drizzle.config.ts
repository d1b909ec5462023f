import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "mysql",
  schema: "./provider/schema.ts",
  out: "./provider/migrations",
});
