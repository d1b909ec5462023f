/**
 * `npm run profile -- [--phase first|replay|ceiling] [--seconds N]`: where one server process spends its CPU under
 * load, as a table, so that speed work starts from a profile rather than a guess (docs/serving.md).
 * Starts the production build as one process under `node --cpu-prof`, places orders for 3 s (keys for replays),
 * loads the chosen phase with 64 connections, stops the server so that it writes its profile, and prints the
 * self time by package and by function. The profile covers the whole run, warm-up included.
 * Needs `npm run build` first.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { testProviderApiKey, testSessionSecret } from "../testing/app-server";
import { startChildService } from "../testing/child-service";
import { ShopClient } from "../testing/shop-client";
import { createTestDatabase } from "../testing/test-database";

const { values } = parseArgs({
  options: { phase: { type: "string", default: "first" }, seconds: { type: "string", default: "10" } },
});
const phase = values.phase as "first" | "replay" | "ceiling";
if (!["first", "replay", "ceiling"].includes(phase)) throw new Error("--phase is first, replay or ceiling");
const port = 3590;
const profileDir = mkdtempSync(join(tmpdir(), "eoc-profile-"));

const database = await createTestDatabase("profile");
const server = await startChildService({
  name: "profiled server",
  command: process.execPath,
  args: ["--cpu-prof", `--cpu-prof-dir=${profileDir}`, "--import", "tsx", "server/main.ts"],
  url: `http://127.0.0.1:${port}`,
  healthPath: "/api/health",
  env: {
    ...process.env,
    NODE_ENV: "production",
    PORT: String(port),
    LISTEN_HOST: "127.0.0.1",
    SERVER_PROCESSES: "1",
    DATABASE_URL: database.appUrl,
    SESSION_SECRET: testSessionSecret,
    PROVIDER_API_KEY: testProviderApiKey as string,
    RATE_LIMIT_WRITES_PER_MINUTE: "0",
    RATE_LIMIT_SESSIONS_PER_MINUTE: "0",
  },
});

try {
  const shopper = new ShopClient(server.url);
  await shopper.signIn();
  const cart = { items: [{ productId: 1, quantity: 2 }] };
  const keys: string[] = [];
  let replayIndex = 0;
  const load = (what: typeof phase, seconds: number) =>
    autocannon({
      url: server.url,
      connections: 64,
      duration: seconds,
      requests: [
        {
          method: what === "ceiling" ? "GET" : "POST",
          path: what === "ceiling" ? "/api/trpc/session.me" : "/api/trpc/orders.place",
          headers: { "content-type": "application/json", cookie: shopper.cookie as string },
          setupRequest: (request) => {
            if (what === "ceiling") return request;
            const key = what === "replay" ? keys[replayIndex++ % keys.length] : randomUUID();
            if (what === "first") keys.push(key as string);
            return { ...request, body: JSON.stringify({ idempotencyKey: key, ...cart }) };
          },
        },
      ],
    });
  await load("first", 3);
  const result = await load(phase, Number(values.seconds));
  console.log(
    `${phase}: ${result.requests.average.toFixed(0)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ` +
      `${result.non2xx} non-2xx (under the profiler, which slows the server)`,
  );
} finally {
  await server.stop();
  await database.drop();
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
const [file] = readdirSync(profileDir).filter((name) => name.endsWith(".cpuprofile"));
if (!file) throw new Error(`No profile was written to ${profileDir}`);
const profile = JSON.parse(readFileSync(join(profileDir, file), "utf8")) as {
  nodes: ProfileNode[];
  samples: number[];
};
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const byPackage = new Map<string, number>();
const byFunction = new Map<string, number>();
const add = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
for (const id of profile.samples) {
  const { url, functionName, lineNumber } = (byId.get(id) as ProfileNode).callFrame;
  const inPackage = url.split("/node_modules/").at(-1) ?? url;
  const packageName = url.includes("/node_modules/")
    ? inPackage
        .split("/")
        .slice(0, inPackage.startsWith("@") ? 2 : 1)
        .join("/")
    : url.replace(`file://${process.cwd()}/`, "") || functionName;
  add(byPackage, packageName);
  add(byFunction, `${functionName || "(anonymous)"} ${url.split("/").at(-1) ?? ""}:${lineNumber}`);
}
const top = (map: Map<string, number>, count: number) =>
  [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, samples]) => `${((100 * samples) / profile.samples.length).toFixed(1).padStart(5)} %  ${name}`)
    .join("\n");
console.log(`\nSelf time by package or file (${profile.samples.length} samples; profile in ${profileDir}):`);
console.log(top(byPackage, 20));
console.log("\nSelf time by function:");
console.log(top(byFunction, 25));
