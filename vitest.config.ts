import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    exclude: ["**/node_modules/**", "dist/**"],
    // Fails the run when a test leaves a process or container behind (and cleans them up).
    globalSetup: ["test/global-setup.ts"],
    // Tests that drive the enforcer start real processes and can be slow.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: one worker keeps process-heavy tests from fighting each other.
    pool: "forks",
    maxWorkers: 1,
    fileParallelism: false,
  },
});
