import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { "@": fileURLToPath(new URL(".", import.meta.url)) } },
  test: {
    include: ["{db,server,scripts,ui}/**/*.test.ts"],
    // The scale-out suite starts clusters of its own: vitest.cluster.config.ts.
    exclude: ["**/node_modules/**", "**/*.cluster.test.ts"],
    globalSetup: ["testing/vitest-global-setup.ts"],
    setupFiles: ["testing/vitest-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: files that start servers or storms must not fight each other for them.
    fileParallelism: false,
  },
});
