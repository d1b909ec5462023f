import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/** The scale-out suite: the same guarantee on a Galera cluster and a Redis Cluster (docs/scale-out.md). */
export default defineConfig({
  resolve: { alias: { "@": fileURLToPath(new URL(".", import.meta.url)) } },
  test: {
    include: ["{db,server,scripts}/**/*.cluster.test.ts"],
    globalSetup: ["testing/cluster-global-setup.ts"],
    setupFiles: ["testing/vitest-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 240_000,
    fileParallelism: false,
  },
});
