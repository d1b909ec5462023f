import type { Metadata } from "next";
import { MerchantLogin } from "@/ui/merchant-login";

export const metadata: Metadata = { title: "Merchant sign-in · Exactly Once Checkout" };

export default function MerchantLoginPage() {
  return (
    <main className="page">
      <section className="hero hero--admin">
        <h1>Merchant sign-in</h1>
        <p>
          Refunds and catalog edits are for the shop's merchant. <code>npm run db:setup</code> printed the account's
          password when it created it.
        </p>
      </section>
      <MerchantLogin />
    </main>
  );
}
