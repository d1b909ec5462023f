import type { Metadata } from "next";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { merchantOfRequest } from "@/server/trpc";
import { MerchantBar } from "@/ui/merchant-bar";
import { OrderAdmin } from "@/ui/order-admin";
import { ProductAdmin } from "@/ui/product-admin";

export const metadata: Metadata = { title: "Merchant admin · Exactly Once Checkout" };

export default async function AdminPage() {
  const merchant = await merchantOfRequest(await headers());
  if (!merchant) redirect("/admin/login");
  return (
    <main className="page">
      <section className="hero hero--admin">
        <h1>Merchant admin</h1>
        <p>
          Refund orders and edit the catalog. Every action is safe to repeat: a refund is made once per click however
          often it is retried, and a rename applies to the version you started from.
        </p>
        <MerchantBar email={merchant.email} />
      </section>
      <OrderAdmin />
      <ProductAdmin />
    </main>
  );
}
