import type { NextConfig } from "next";
import { securityHeaders } from "./server/http/security-headers";

const nextConfig: NextConfig = {
  poweredByHeader: false,
  reactStrictMode: true,
  async headers() {
    // Pages get the full, nonce-based policy from proxy.ts as well.
    return [{ source: "/:path*", headers: securityHeaders() }];
  },
};

export default nextConfig;
