/** A plain-HTTP tRPC caller for tests: what curl or any other client would send, cookie included. */
import { testMerchant } from "./merchant";

export interface CallResult {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever the wire carried
  body: any;
  /** The business payload of a success, or the error of a failure. */
  // biome-ignore lint/suspicious/noExplicitAny: as above
  data: any;
}

export class ShopClient {
  /** The guest this client signed in as, once it has. */
  customerId?: string;

  constructor(
    public baseUrl: string,
    public cookie?: string,
  ) {}

  /** Starts a guest session (session.me) and keeps its cookie. */
  async signIn(): Promise<string> {
    const response = await fetch(`${this.baseUrl}/api/trpc/session.me`);
    const setCookie = response.headers.get("set-cookie");
    if (!setCookie) throw new Error(`no session cookie (HTTP ${response.status})`);
    this.cookie = setCookie.split(";")[0];
    this.customerId = (await response.json()).result.data.customerId as string;
    return this.customerId;
  }

  /** Signs in as the merchant and keeps the merchant's cookie beside any guest cookie. */
  async signInAsMerchant(credentials: { email: string; password: string } = testMerchant): Promise<CallResult> {
    const result = await this.mutation("merchant.login", credentials);
    const setCookie = result.headers.get("set-cookie");
    if (result.status !== 200 || !setCookie) throw new Error(`merchant sign-in failed (HTTP ${result.status})`);
    const merchantCookie = setCookie.split(";")[0] as string;
    const name = merchantCookie.split("=")[0];
    const others = (this.cookie ?? "").split("; ").filter((cookie) => cookie && !cookie.startsWith(`${name}=`));
    this.cookie = [...others, merchantCookie].join("; ");
    return result;
  }

  /** The same customer, talking to another server. */
  on(baseUrl: string): ShopClient {
    return Object.assign(new ShopClient(baseUrl, this.cookie), { customerId: this.customerId });
  }

  async mutation(path: string, input: unknown, headers: Record<string, string> = {}): Promise<CallResult> {
    const response = await fetch(`${this.baseUrl}/api/trpc/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(this.cookie ? { cookie: this.cookie } : {}), ...headers },
      body: JSON.stringify(input),
    });
    return this.read(response);
  }

  async query(path: string, input?: unknown): Promise<CallResult> {
    const query = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`;
    const response = await fetch(`${this.baseUrl}/api/trpc/${path}${query}`, {
      headers: this.cookie ? { cookie: this.cookie } : {},
    });
    return this.read(response);
  }

  private async read(response: Response): Promise<CallResult> {
    const body = await response.json();
    return { status: response.status, headers: response.headers, body, data: body.result?.data ?? body.error };
  }
}
