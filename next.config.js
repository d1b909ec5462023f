/**
 * Headers every answer carries: no MIME sniffing, no framing (clickjacking), no full URLs leaked in Referer, and
 * HSTS when the shop is served over https (SESSION_COOKIE_SECURE=true at build time).
 */
const securityHeaders = [
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "X-Frame-Options", value: "DENY" },
  {
    key: "Content-Security-Policy",
    value: "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'",
  },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
  ...(process.env.SESSION_COOKIE_SECURE === "true"
    ? [{ key: "Strict-Transport-Security", value: "max-age=31536000; includeSubDomains" }]
    : []),
];

/** @type {import('next').NextConfig} */
const nextConfig = {
  poweredByHeader: false,
  reactStrictMode: true,
  async headers() {
    // Pages get the full, nonce-based policy from proxy.ts as well.
    return [{ source: "/:path*", headers: securityHeaders }];
  },
};

export default nextConfig;
