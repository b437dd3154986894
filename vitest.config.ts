import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/functions/**/*.test.ts"],
    globalSetup: ["tests/helpers/global-setup.ts"],
    setupFiles: ["tests/helpers/env.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Suites share one database; they use distinct users and wallets, so files may run in parallel.
    fileParallelism: true,
    pool: "forks",
  },
});
