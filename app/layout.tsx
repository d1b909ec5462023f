import type { Metadata } from "next";
import { connection } from "next/server";
import type { ReactNode } from "react";
import { env } from "@/server/env";
import { Providers } from "@/ui/providers";
import "./globals.css";

export const metadata: Metadata = {
  title: "Exactly Once Checkout",
  description: "A checkout where no retry ever charges twice.",
};

/** The lab's page: on the lab's own server, or where the shop was told it runs (LAB_URL). */
function labHref(): string | undefined {
  if (process.env.EOC_SERVER_ROLE === "lab") return "/lab";
  const labUrl = env().LAB_URL;
  return labUrl ? new URL("/lab", labUrl).href : undefined;
}

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Rendered per request, so every page's scripts carry that request's CSP nonce (proxy.ts).
  await connection();
  return (
    <html lang="en">
      <body>
        <header className="masthead">
          <a className="brand" href="/">
            <span className="brand__mark" aria-hidden="true">
              1×
            </span>
            Exactly Once Coffee &amp; Tea
          </a>
          <span className="masthead__promise">Charged once. Always.</span>
          <nav aria-label="Site">
            {labHref() && (
              <a className="masthead__link" href={labHref()}>
                Idempotency lab
              </a>
            )}
            <a className="masthead__link" href="/admin">
              Merchant admin
            </a>
          </nav>
        </header>
        <Providers>{children}</Providers>
        <footer className="footer">Demo shop: test cards only, no real money moves.</footer>
      </body>
    </html>
  );
}
