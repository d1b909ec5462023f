import { sql } from "drizzle-orm";
import { appDatabase } from "@/server/db";

/** Readiness: the server answers and its database does too. */
export async function GET() {
  try {
    await appDatabase().db.execute(sql`select 1`);
    return Response.json({ ok: true });
  } catch {
    return Response.json({ ok: false, reason: "database unreachable" }, { status: 503 });
  }
}
