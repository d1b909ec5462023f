import type { Metadata } from "next";
import { ProductAdmin } from "@/ui/product-admin";

export const metadata: Metadata = { title: "Catalog admin · Exactly Once Checkout" };

export default function AdminPage() {
  return (
    <main className="page">
      <section className="hero hero--admin">
        <h1>Catalog admin</h1>
        <p>
          Rename products and file them under categories. Every edit is safe to repeat: a rename applies to the version
          you started from, and if someone else saved first you choose whose name stays.
        </p>
      </section>
      <ProductAdmin />
    </main>
  );
}
