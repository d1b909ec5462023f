import { and, eq } from "drizzle-orm";
import { afterAll, inject } from "vitest";
import { openDatabase } from "@/db/client";
import { idempotencyKeys } from "@/db/schema";
import { describePayments } from "@/testing/conformance/payments";

const database = openDatabase(inject("databaseUrl"), { poolSize: 2 });
afterAll(() => database.close());

describePayments("MySQL", {
  storeEnv: () => ({}),
  ports: [3250, 3251, 3252, 3253],
  storedRecord: async (scope, key) => {
    const [record] = await database.db
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.customerId, scope), eq(idempotencyKeys.idempotencyKey, key)));
    return record ? JSON.stringify(record) : null;
  },
});
