import { afterAll, inject } from "vitest";
import { openDatabase } from "@/db/client";
import { describePayments, mysqlStoredRecord } from "@/testing/conformance/payments";

const database = openDatabase(inject("databaseUrl"), { poolSize: 2 });
afterAll(() => database.close());

describePayments("MySQL", {
  storeEnv: () => ({}),
  ports: [3250, 3251, 3252, 3253],
  storedRecord: mysqlStoredRecord(database),
});
