/**
 * The shop's path holds only the shop: everything the shop's server entry (server/main.ts) can load, statically or
 * by a dynamic import, is walked from its imports, and none of it is the lab's, a test's or a benchmark's. Test and
 * lab instruments reach the request path only through server/instruments.ts, which the shop leaves empty.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = process.cwd();

function resolveImport(from: string, specifier: string): string | null {
  let base: string;
  if (specifier.startsWith("@/")) base = join(root, specifier.slice(2));
  else if (specifier.startsWith(".")) base = join(dirname(from), specifier);
  else return null;
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, join(base, "index.ts")]) {
    if (existsSync(candidate) && candidate.match(/\.tsx?$/)) return normalize(candidate);
  }
  throw new Error(`${relative(root, from)} imports ${specifier}, which does not resolve`);
}

/** Every file of ours reachable from `entry`. */
function reachableFrom(entry: string): Set<string> {
  const seen = new Set<string>();
  const queue = [join(root, entry)];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, "utf8");
    for (const match of source.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)["']([^"']+)["']/g)) {
      const resolved = resolveImport(file, match[1] as string);
      if (resolved) queue.push(resolved);
    }
  }
  return new Set([...seen].map((file) => relative(root, file)));
}

describe("the shop's server", () => {
  const shop = reachableFrom("server/main.ts");

  it("loads the shop's request path (a check that the walk follows imports)", () => {
    for (const file of ["server/http/api.ts", "server/trpc.ts", "server/services/payments.ts"]) {
      expect(shop).toContain(file);
    }
    expect(shop).toContain("server/idempotency/execute.ts");
  });

  it("loads nothing of the lab, the tests or the benchmarks", () => {
    const foreign = [...shop].filter((file) => /^(server\/lab\/|testing\/|scripts\/|e2e\/)/.test(file));
    expect(foreign).toEqual([]);
  });

  it("has no fault or lab code in its HTTP server, services, idempotency layer or tRPC setup", () => {
    const requestPath = [...shop].filter((file) =>
      /^server\/(http\/|services\/|idempotency\/|trpc\.ts|root\.ts|run\.ts)/.test(file),
    );
    for (const file of requestPath) {
      const source = readFileSync(file, "utf8");
      expect(source, file).not.toMatch(/(from\s+|import\s*\(\s*)["'][^"']*(lab|faults|testing|bench)[^"']*["']/);
      expect(source, file).not.toMatch(/"x-fault|"x-lab-|crashIf|holdIf|ENABLE_LAB/);
    }
  });
});

describe("the lab's server", () => {
  it("is the shop's code with the lab's instruments installed", () => {
    const lab = reachableFrom("server/lab/main.ts");
    expect(lab).toContain("server/lab/instruments.ts");
    expect(lab).toContain("server/http/api.ts");
  });
});
