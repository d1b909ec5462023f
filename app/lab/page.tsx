import { notFound, redirect } from "next/navigation";
import { connection } from "next/server";
import { env } from "@/server/env";
import { Lab } from "@/ui/lab/lab";

/** The lab lives on its own server (server/lab/main.ts); the shop's /lab sends trainees there. */
export default async function LabPage() {
  await connection();
  if (process.env.EOC_SERVER_ROLE !== "lab") {
    const labUrl = env().LAB_URL;
    if (labUrl) redirect(new URL("/lab", labUrl).href);
    notFound();
  }
  return (
    <main className="page">
      <section className="hero">
        <h1>The idempotency lab</h1>
        <p>Cause the failures a real checkout meets, and watch what they do with and without the guarantee.</p>
      </section>
      <Lab />
    </main>
  );
}
