/** The cookies one simulated browser holds: sent back on every request, as a browser would, to one server. */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  constructor(private readonly timeoutMs = 30_000) {}

  readonly fetch = async (input: string, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) {
      headers.set("cookie", [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; "));
    }
    // A browser gives up on a silent connection too: no simulated client waits for ever.
    const response = await fetch(input, { signal: AbortSignal.timeout(this.timeoutMs), ...init, headers });
    for (const setCookie of response.headers.getSetCookie()) {
      const [pair = ""] = setCookie.split(";");
      const at = pair.indexOf("=");
      if (at > 0) this.cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    return response;
  };
}
