/**
 * Headers every answer carries, pages (next.config.ts) and the API (server/http/api.ts) alike: no MIME sniffing, no
 * framing (clickjacking), no full URLs leaked in Referer, and HSTS when the shop is served over https
 * (SESSION_COOKIE_SECURE=true).
 */
export function securityHeaders(secure = process.env.SESSION_COOKIE_SECURE === "true") {
  return [
    { key: "X-Content-Type-Options", value: "nosniff" },
    { key: "X-Frame-Options", value: "DENY" },
    {
      key: "Content-Security-Policy",
      value: "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'",
    },
    { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
    ...(secure ? [{ key: "Strict-Transport-Security", value: "max-age=31536000; includeSubDomains" }] : []),
  ];
}
