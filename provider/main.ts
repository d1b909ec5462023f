/** `npm run provider`: the simulated payment provider as its own process. */
import { existsSync } from "node:fs";
import { drizzle } from "drizzle-orm/mysql2";
import mysql from "mysql2/promise";
import { z } from "zod";
import * as schema from "./schema";
import { createProviderServer } from "./server";

// The provider is its own service: it reads the same local .env (db:setup writes it) but nothing of the shop.
if (existsSync(".env")) process.loadEnvFile(".env");
const parsed = z
  .object({
    PROVIDER_DATABASE_URL: z.string().startsWith("mysql://", "must be a mysql:// URL"),
    PROVIDER_PORT: z.coerce.number().int().positive().default(4010),
    /** The secret its one merchant (the shop) sends as a Bearer token; db:setup creates it. */
    PROVIDER_API_KEY: z.string({ error: "is required" }).min(32, "must be at least 32 characters"),
    PROVIDER_LATENCY_MS: z.coerce.number().int().min(0).default(0),
    /** Tests only: lets `POST /test/faults` change latency and failures while running. */
    PROVIDER_ENABLE_FAULTS: z.enum(["true", "false"]).default("false"),
  })
  .safeParse(process.env);
if (!parsed.success) {
  console.error(
    `Invalid provider environment: ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`,
  );
  process.exit(1);
}
const env = parsed.data;
const pool = mysql.createPool({ uri: env.PROVIDER_DATABASE_URL, connectionLimit: 10 });
const server = createProviderServer(drizzle(pool, { schema, mode: "default" }), {
  faults: { latencyMs: env.PROVIDER_LATENCY_MS },
  faultControl: env.PROVIDER_ENABLE_FAULTS === "true",
  apiKey: env.PROVIDER_API_KEY,
});
server.listen(env.PROVIDER_PORT, "127.0.0.1", () => {
  console.log(`Payment provider listening on http://127.0.0.1:${env.PROVIDER_PORT}`);
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    server.close();
    void pool.end().then(() => process.exit(0));
  });
}
