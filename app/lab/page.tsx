import { notFound } from "next/navigation";
import { env } from "@/server/env";
import { Lab } from "@/ui/lab/lab";

export default function LabPage() {
  if (env().ENABLE_LAB !== "true") notFound();
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
